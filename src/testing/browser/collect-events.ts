import type { BrowserContext, Page } from 'playwright-core';

/**
 * Every window event tabwarden's page API dispatches: the seed's `onEmbeddedMessaging*`
 * `CustomEvent`s and tabwarden's own `tabwarden:*` ones.
 */
export const TABWARDEN_WINDOW_EVENTS = Object.freeze([
  'onEmbeddedMessagingReady',
  'onEmbeddedMessagingIdentityTokenExpired',
  'onEmbeddedMessagingIdentityTokenRejected',
  'onEmbeddedMessagingButtonCreated',
  'onEmbeddedMessagingConversationStarted',
  'tabwarden:session-cleared',
  'tabwarden:identity-token-refreshed',
] as const);

/** The name of one of {@link TABWARDEN_WINDOW_EVENTS}. */
export type TabwardenWindowEventName = (typeof TABWARDEN_WINDOW_EVENTS)[number];

/** One event a tab dispatched on `window`, as the recorder kept it. */
export interface RecordedEvent<Detail = unknown> {
  name: string;
  /** The `CustomEvent`'s `detail` (a structured clone; `null` when there was none). */
  detail: Detail;
  /** When it was dispatched, in ms since the epoch (the page's clock). */
  at: number;
}

/** Options of {@link collectEvents}. */
export interface CollectEventsOptions {
  /** Event names to record. Default {@link TABWARDEN_WINDOW_EVENTS}; add your app's own. */
  names?: readonly string[];
}

/** Options of {@link waitForEvent}. */
export interface WaitForEventOptions {
  /** Wait for the `count`-th occurrence since the page loaded. Default 1. */
  count?: number;
  /** Give up after this long, with an error listing what the tab did dispatch. Default 10000. */
  timeoutMs?: number;
}

// Where the recorder keeps the events in each page (a non-enumerable window property).
const RECORDER_KEY = '__tabwardenRecordedEvents__';

/**
 * Installs a recorder of tabwarden's window events in `target` — one page, or every page a
 * browser context opens from now on — that runs before any page script, in every document the
 * page loads (each load starts a fresh record). It listens in the capture phase, so nothing a
 * page script does can hide an event from it. Call it before navigating.
 *
 * @example
 * ```ts
 * const context = await browser.newContext();
 * await collectEvents(context);
 * const [tab] = await openTabs(context, 1, server.url);
 * await waitForEvent(tab, 'onEmbeddedMessagingReady');
 * console.log(await eventsOf(tab)); // [{ name: 'onEmbeddedMessagingReady', detail: {}, at: 1767… }]
 * ```
 */
export async function collectEvents(
  target: Page | BrowserContext,
  options: CollectEventsOptions = {},
): Promise<void> {
  const names = [...(options.names ?? TABWARDEN_WINDOW_EVENTS)];
  await target.addInitScript(
    ({ key, names }: { key: string; names: string[] }) => {
      const global = window as unknown as Record<string, unknown>;
      if (global[key]) return;
      const events: Array<{ name: string; detail: unknown; at: number }> = [];
      Object.defineProperty(window, key, { value: events, enumerable: false });
      for (const name of names) {
        window.addEventListener(
          name,
          (event) => {
            let detail: unknown = event instanceof CustomEvent ? (event.detail ?? null) : null;
            try {
              detail = structuredClone(detail);
            } catch {
              detail = String(detail);
            }
            events.push({ name, detail, at: Date.now() });
          },
          { capture: true },
        );
      }
    },
    { key: RECORDER_KEY, names },
  );
}

/**
 * The events `page` has dispatched since it loaded, oldest first; only those named `name` if
 * given. Rejects if no recorder was installed in the page ({@link collectEvents}).
 *
 * @example
 * ```ts
 * const expired = await eventsOf(tab, 'onEmbeddedMessagingIdentityTokenExpired');
 * expect(expired).toHaveLength(1); // R6: at most one per grace window
 * ```
 */
export async function eventsOf<Detail = unknown>(
  page: Page,
  name?: string,
): Promise<RecordedEvent<Detail>[]> {
  const events = await page.evaluate(
    (key) => ((window as unknown as Record<string, unknown>)[key] ?? null) as RecordedEvent[] | null,
    RECORDER_KEY,
  );
  if (!events) {
    throw new Error(
      `eventsOf: no event recorder in ${page.url()}: call collectEvents(page or context) before navigating`,
    );
  }
  return (
    name === undefined ? events : events.filter((event) => event.name === name)
  ) as RecordedEvent<Detail>[];
}

/**
 * Waits until `page` has dispatched `name` `count` times since it loaded, and resolves with that
 * occurrence. It waits for the event itself, however long it takes within `timeoutMs`; an event
 * dispatched before the call counts. Rejects after the timeout with the events the tab did see.
 *
 * @example
 * ```ts
 * await waitForEvent(tab, 'onEmbeddedMessagingReady');
 * const rejected = await waitForEvent<{ code: string }>(tab, 'onEmbeddedMessagingIdentityTokenRejected');
 * expect(rejected.detail.code).toBe('ERR_TOKEN_SIGNATURE');
 * await waitForEvent(tab, 'onEmbeddedMessagingReady', { count: 2 }); // Ready again after a clear
 * ```
 */
export async function waitForEvent<Detail = unknown>(
  page: Page,
  name: string,
  options: WaitForEventOptions = {},
): Promise<RecordedEvent<Detail>> {
  const count = options.count ?? 1;
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (!Number.isInteger(count) || count < 1)
    throw new RangeError(`waitForEvent: count must be a whole number ≥ 1, got ${count}`);
  try {
    const found = await page.waitForFunction(
      ({ key, name, count }) => {
        const events = (window as unknown as Record<string, RecordedEvent[] | undefined>)[key];
        const matching = events?.filter((event) => event.name === name) ?? [];
        return matching.length >= count ? matching[count - 1] : false;
      },
      { key: RECORDER_KEY, name, count },
      { timeout: timeoutMs, polling: 50 },
    );
    return (await found.jsonValue()) as RecordedEvent<Detail>;
  } catch (error) {
    let seen: string;
    try {
      seen = (await eventsOf(page)).map((event) => event.name).join(', ') || 'none';
    } catch (inner) {
      seen = inner instanceof Error ? inner.message : String(inner);
    }
    throw new Error(
      `waitForEvent: ${page.url()} did not dispatch ${name}${count > 1 ? ` ${count} times` : ''} within ${timeoutMs} ms (events seen: ${seen})`,
      { cause: error },
    );
  }
}
