// The portal's timeline: every tab's events, newest first, so a visitor sees the tabs coordinate.
// Tabs share their rows over a BroadcastChannel of the portal's own (not tabwarden's); a tab that
// opens later asks the others for theirs. Rows carry a time, a tab label, an event name and a
// short detail the portal wrote: never a token.

const CHANNEL_NAME = 'tabwarden-demo-portal-timeline';
const MAX_ROWS = 300;
const MAX_TEXT = 200;

const timeFormat = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  fractionalSecondDigits: 3,
  hour12: false,
});

/**
 * A label for this tab that no other open tab of the portal has: "Tab 1", "Tab 2", … The number
 * is held with a Web Lock for the tab's lifetime, so a reloaded or closed tab frees it.
 * Without Web Locks (an insecure context) a random letter pair stands in.
 */
export async function claimTabNumber() {
  if (!navigator.locks) return undefined;
  for (let number = 1; number < 100; number++) {
    const claimed = await new Promise((resolve) => {
      void navigator.locks.request(`tabwarden-demo-portal-tab-${number}`, { ifAvailable: true }, (lock) => {
        resolve(lock !== null);
        // Held until the tab goes away.
        return lock === null ? undefined : new Promise(() => {});
      });
    });
    if (claimed) return number;
  }
  return undefined;
}

function isRow(value) {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof value.id === 'string' &&
    typeof value.at === 'number' &&
    Number.isFinite(value.at) &&
    typeof value.tab === 'string' &&
    typeof value.tabNumber === 'number' &&
    typeof value.name === 'string' &&
    typeof value.detail === 'string' &&
    value.id.length <= 64 &&
    value.tab.length <= 32 &&
    value.name.length <= MAX_TEXT &&
    value.detail.length <= MAX_TEXT
  );
}

/**
 * Renders the shared timeline into `list` (an `<ol>`) for this tab, `tabNumber` (from
 * {@link claimTabNumber}). `add(name, detail)` records one of this tab's events.
 */
export function createTimeline(list, tabNumber) {
  const tab = tabNumber === undefined ? `Tab ${randomLetters()}` : `Tab ${tabNumber}`;
  const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(CHANNEL_NAME) : undefined;
  /** This tab's own rows, to answer a later tab's history request. */
  const own = [];
  const seen = new Set();
  let sequence = 0;

  function render(row) {
    if (seen.has(row.id)) return;
    seen.add(row.id);
    const item = document.createElement('li');
    item.className = 'timeline-row';
    item.dataset.at = String(row.at);
    item.dataset.tab = row.tab;
    // Four colours cycle through the tabs; the tab's name says which tab it is anyway.
    item.dataset.hue = String((row.tabNumber - 1) % 4);
    if (row.tab === tab) item.classList.add('own');
    const time = document.createElement('time');
    time.dateTime = new Date(row.at).toISOString();
    time.textContent = timeFormat.format(row.at);
    const label = document.createElement('span');
    label.className = 'timeline-tab';
    label.textContent = row.tab;
    const name = document.createElement('span');
    name.className = 'timeline-name';
    // Long camel-case names (onEmbeddedMessagingButtonCreated) may wrap between their words.
    row.name.split(/(?<=[a-z])(?=[A-Z])|(?<=:)/).forEach((part, index) => {
      if (index > 0) name.append(document.createElement('wbr'));
      name.append(part);
    });
    const detail = document.createElement('span');
    detail.className = 'timeline-detail';
    detail.textContent = row.detail;
    item.append(time, label, name, detail);
    // Newest first; a row from another tab may arrive a little after a newer one of ours.
    let before = list.firstElementChild;
    while (before && Number(before.dataset.at) > row.at) before = before.nextElementSibling;
    list.insertBefore(item, before);
    while (list.childElementCount > MAX_ROWS) list.lastElementChild.remove();
  }

  if (channel) {
    channel.onmessage = ({ data }) => {
      if (data?.type === 'row' && isRow(data.row)) render(data.row);
      else if (data?.type === 'history' && Array.isArray(data.rows)) {
        for (const row of data.rows.slice(-MAX_ROWS)) if (isRow(row)) render(row);
      } else if (data?.type === 'history-request' && own.length > 0) {
        channel.postMessage({ type: 'history', rows: own });
      }
    };
    channel.postMessage({ type: 'history-request' });
  }

  return {
    tab,
    /** Records one of this tab's events (that happened `at`, default now) in every tab's timeline. */
    add(name, detail = '', at = now()) {
      const row = {
        id: `${tab}:${performance.timeOrigin}:${sequence++}`,
        at,
        tab,
        tabNumber: tabNumber ?? 1,
        name: String(name).slice(0, MAX_TEXT),
        detail: String(detail).slice(0, MAX_TEXT),
      };
      own.push(row);
      if (own.length > MAX_ROWS) own.shift();
      render(row);
      channel?.postMessage({ type: 'row', row });
    },
    /** Empties this tab's view (other tabs keep theirs). */
    clear() {
      list.replaceChildren();
    },
  };
}

/** Milliseconds since the epoch, with the fraction every tab's clock shares. */
export function now() {
  return performance.timeOrigin + performance.now();
}

function randomLetters() {
  const letters = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
  const [a, b] = crypto.getRandomValues(new Uint8Array(2));
  return letters[a % letters.length] + letters[b % letters.length];
}
