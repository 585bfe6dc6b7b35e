// The demo portal: a page written against the seed's script-tag API
// (window.embeddedservice_bootstrap), plus tabwarden's UI bundle, which mounts the conversation
// button into [data-tabwarden-ui] by itself. Plain browser JavaScript: no build, no inline code,
// so the page's `default-src 'self'` policy holds.
//
// Signing in is the demo app's own login: a cookie session (HttpOnly, a random id the server maps
// to the user) that every tab of the browser shares. Each tab fetches a fresh identity token with
// it when it needs one (`identityTokenProvider`), so a tab opened later joins by itself.
//
// The identity token lives in one variable of this module and nowhere else: never in storage,
// the URL, a DOM attribute, the cookie or the timeline (R3).
import { claimTabNumber, createTimeline, now } from './timeline.js';

const ISSUER = 'urn:tabwarden:demo-identity-provider';
const TRANSPORTS = ['auto', 'service-worker', 'shared-worker', 'in-page'];

/** Every window event tabwarden (facade and UI) dispatches. */
const WINDOW_EVENTS = [
  'onEmbeddedMessagingReady',
  'onEmbeddedMessagingIdentityTokenExpired',
  'onEmbeddedMessagingIdentityTokenRejected',
  'onEmbeddedMessagingConversationStarted',
  'onEmbeddedMessagingButtonCreated',
  'tabwarden:session-cleared',
  'tabwarden:identity-token-refreshed',
];

const CLEAR_REASONS = {
  logout: 'Signed out (here or in another tab).',
  'identity-token-timeout': 'Signed out: no new identity token arrived within the grace period.',
  'user-switch': 'Signed out: another user signed in in another tab.',
  'authorization-revoked': 'Signed out: the server ended the session.',
};

const $ = (id) => document.getElementById(id);
const ui = {
  connection: $('connection-state'),
  transport: $('transport'),
  tabLabel: $('tab-label'),
  signInForm: $('sign-in-form'),
  signIn: $('sign-in'),
  userName: $('user-name'),
  autoRenew: $('auto-renew'),
  signedIn: $('signed-in'),
  who: $('who'),
  tokenExpiry: $('token-expiry'),
  renewNow: $('renew-now'),
  signOut: $('sign-out'),
  endConversation: $('end-conversation'),
  switchForm: $('switch-form'),
  switchName: $('switch-name'),
  message: $('account-message'),
  placeholder: $('conversation-placeholder'),
  timeline: $('timeline'),
  clearTimeline: $('clear-timeline'),
  transportChoice: $('transport-choice'),
};

/** This tab's sign-in, in memory only. `identityToken` is never written anywhere. */
const session = {
  ready: false,
  /** The user this tab signed in as, once its token was verified. */
  subject: undefined,
  /** True while a token of this tab waits for the worker's verdict. */
  pending: false,
  identityToken: undefined,
  expiresAt: undefined,
  /** Set while the app session is being ended: the token provider waits for it. */
  ending: undefined,
};

// ---- the timeline ---------------------------------------------------------------------------

const clockFormat = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hour12: false,
});
const at = (ms) => clockFormat.format(ms);

/** A short, token-free line about an event's detail. */
function describe(name, detail = {}) {
  switch (name) {
    case 'onEmbeddedMessagingIdentityTokenRejected':
      return String(detail.code ?? '');
    case 'onEmbeddedMessagingIdentityTokenExpired':
      return typeof detail.deadline === 'number' ? `grace until ${at(detail.deadline)}` : '';
    case 'onEmbeddedMessagingConversationStarted':
      return typeof detail.conversationId === 'string'
        ? `conversation ${detail.conversationId.slice(0, 8)}…`
        : '';
    case 'tabwarden:session-cleared':
      return `reason: ${detail.reason}`;
    case 'tabwarden:identity-token-refreshed':
    case 'verified':
      return [
        typeof detail.sub === 'string' ? `as ${detail.sub}` : '',
        typeof detail.exp === 'number' ? `token valid until ${at(detail.exp * 1000)}` : '',
      ]
        .filter(Boolean)
        .join(', ');
    default:
      return '';
  }
}

/** Rows logged before this tab has its label wait here, with the time they happened. */
const early = [];
let timeline;

function log(name, detail = '') {
  if (timeline) timeline.add(name, detail);
  else early.push([name, detail, now()]);
}

function note(text) {
  log('portal', text);
}

async function startTimeline() {
  timeline = createTimeline(ui.timeline, await claimTabNumber());
  ui.tabLabel.textContent = timeline.tab;
  document.title = `${timeline.tab} · tabwarden demo portal`;
  for (const [name, detail, when] of early.splice(0)) timeline.add(name, detail, when);
}

ui.clearTimeline.addEventListener('click', () => timeline?.clear());

for (const name of WINDOW_EVENTS) {
  addEventListener(name, (event) => log(name, describe(name, event.detail ?? {})));
}

// ---- rendering ------------------------------------------------------------------------------

function setPill(element, text, tone) {
  element.textContent = text;
  element.dataset.tone = tone;
}

function say(text, tone = 'info') {
  ui.message.textContent = text;
  ui.message.dataset.tone = tone;
}

let expiryTimer;

function render() {
  const signedIn = session.subject !== undefined;
  ui.signInForm.hidden = signedIn;
  ui.signedIn.hidden = !signedIn;
  ui.signIn.disabled = !session.ready || session.pending;
  ui.renewNow.disabled = !session.ready || session.pending;
  ui.who.textContent = session.subject ?? '';
  renderExpiry();
  clearInterval(expiryTimer);
  if (signedIn) expiryTimer = setInterval(renderExpiry, 1000);
}

function renderExpiry() {
  if (session.expiresAt === undefined) {
    ui.tokenExpiry.textContent = '';
    return;
  }
  const seconds = Math.round((session.expiresAt - Date.now()) / 1000);
  ui.tokenExpiry.textContent =
    seconds > 0
      ? `· identity token expires in ${formatDuration(seconds)}`
      : `· identity token expired ${formatDuration(-seconds)} ago`;
}

function formatDuration(seconds) {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

function showConversationPlaceholder(show) {
  ui.placeholder.hidden = !show;
}

// ---- the demo app's login (a cookie session; see src/server/demo-login.ts) ------------------

/** A JSON request to the demo app; throws an error carrying the server's code. */
async function demoRequest(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
    cache: 'no-store',
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw Object.assign(new Error(answer.message ?? `HTTP ${response.status}`), {
      code: answer.code ?? `HTTP_${response.status}`,
    });
  }
  return answer;
}

/** Signs in to the demo app: the cookie session every tab of this browser shares from now on. */
function startAppSession(sub, identityTokenLifetimeSeconds) {
  return demoRequest('POST', '/demo/session', { sub, identityTokenLifetimeSeconds });
}

/** Ends the app session (idempotent); a token provider asked meanwhile waits for it. */
function endAppSession() {
  session.ending = demoRequest('DELETE', '/demo/session')
    .then(() => note('app session ended'))
    .catch((error) => say(`Could not end the app session: ${error.code}`, 'error'));
  return session.ending;
}

/** A fresh identity token from the app session, kept in this module's memory only. */
async function fetchIdentityToken(why) {
  await session.ending;
  const minted = await demoRequest('POST', '/demo/session/identity-token');
  session.identityToken = minted.identityToken;
  session.expiresAt = minted.expiresAt;
  note(`${why}: identity token from the app session, valid until ${at(minted.expiresAt)}`);
  return minted.identityToken;
}

/**
 * tabwarden asks this when the tab is ready and unverified, when both tokens expired, and
 * shortly before the token's `exp` (R3). It answers from the shared app session, so a second
 * tab joins with no click; renewals follow the "renew automatically" box.
 */
async function identityTokenProvider() {
  const renewal = session.subject !== undefined;
  if (renewal && !ui.autoRenew.checked) {
    note('automatic renewal is off: no new token');
    throw new Error('automatic renewal is off');
  }
  try {
    session.pending = true;
    render();
    return await fetchIdentityToken(renewal ? 'automatic renewal' : 'joining');
  } catch (error) {
    session.pending = false;
    if (error.code === 'ERR_NO_SESSION') note('no app session: sign in to join');
    else say(`Could not get a token: ${error.code ?? error.message}`, 'error');
    render();
    throw error;
  }
}

/** Sets the demo server's authorization token lifetime for the exchanges that follow. */
async function setAccessTokenLifetime(seconds) {
  try {
    await demoRequest('POST', '/demo/settings', { accessTokenLifetimeSeconds: seconds });
    note(`authorization tokens now live ${formatDuration(seconds)}`);
  } catch {
    say('Could not set the authorization token lifetime.', 'error');
  }
}

/** Hands a token from the app session over with the seed's API. */
async function presentToken(why) {
  if (session.pending) return;
  session.pending = true;
  render();
  try {
    const identityToken = await fetchIdentityToken(why);
    const accepted = window.embeddedservice_bootstrap.userVerificationAPI.setIdentityToken({
      identityTokenType: 'JWT',
      identityToken,
    });
    note(`setIdentityToken returned ${accepted}`);
    // Refused before verification: onEmbeddedMessagingIdentityTokenRejected says why.
    if (!accepted) session.pending = false;
  } catch (error) {
    session.pending = false;
    say(`Could not get a token: ${error.code ?? error.message}`, 'error');
  } finally {
    render();
  }
}

ui.signInForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const sub = ui.userName.value.trim();
  if (!sub) {
    say('Enter a user name.', 'error');
    ui.userName.focus();
    return;
  }
  const form = new FormData(ui.signInForm);
  say('Signing in…');
  try {
    await setAccessTokenLifetime(Number(form.get('access-lifetime')));
    await startAppSession(sub, Number(form.get('lifetime')));
    note(`signed in to the app as "${sub}": every tab shares this login`);
  } catch (error) {
    say(`Could not sign in: ${error.code ?? error.message}`, 'error');
    return;
  }
  await presentToken('sign-in');
});

ui.switchForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const sub = ui.switchName.value.trim();
  if (!sub || sub === session.subject) {
    say(sub ? `Already signed in as ${sub}.` : 'Enter a user name.', 'error');
    return;
  }
  try {
    // The app's login moves to the new user; the worker then clears the old session everywhere (R8).
    await startAppSession(sub, Number(new FormData(ui.signInForm).get('lifetime')));
    note(`switched the app's login to "${sub}"`);
  } catch (error) {
    say(`Could not switch: ${error.code ?? error.message}`, 'error');
    return;
  }
  ui.switchName.value = '';
  await presentToken('switch');
});

ui.renewNow.addEventListener('click', () => {
  if (session.subject) void presentToken('renewal');
});

ui.signOut.addEventListener('click', async () => {
  ui.signOut.disabled = true;
  say('Signing out in every tab…');
  try {
    // The app session first, so no tab's provider can sign it back in after the clear.
    await endAppSession();
    await window.embeddedservice_bootstrap.userVerificationAPI.clearSession(ui.endConversation.checked);
    note('clearSession resolved: wiped and confirmed by every tab');
    forget();
    say('Signed out.');
  } catch (error) {
    say(`Sign-out failed: ${error.code ?? error.message}`, 'error');
  } finally {
    ui.signOut.disabled = false;
    render();
  }
});

function forget() {
  session.subject = undefined;
  session.pending = false;
  session.identityToken = undefined;
  session.expiresAt = undefined;
  showConversationPlaceholder(true);
}

// ---- reacting to tabwarden ------------------------------------------------------------------

addEventListener('onEmbeddedMessagingReady', () => {
  session.ready = true;
  setPill(ui.connection, 'Ready', 'ok');
  render();
});

addEventListener('onEmbeddedMessagingIdentityTokenRejected', (event) => {
  if (!session.pending) return;
  const wasRenewal = session.subject !== undefined;
  session.pending = false;
  if (!wasRenewal) {
    session.identityToken = undefined;
    session.expiresAt = undefined;
  }
  say(`The token was refused (${event.detail?.code ?? 'unknown'}). Nothing changed.`, 'error');
  render();
});

addEventListener('onEmbeddedMessagingIdentityTokenExpired', (event) => {
  const deadline = event.detail?.deadline;
  const left = typeof deadline === 'number' ? Math.max(0, Math.round((deadline - Date.now()) / 1000)) : 30;
  if (!session.subject) return;
  // tabwarden asks identityTokenProvider now; it renews only with the box checked.
  if (ui.autoRenew.checked) say(`Both tokens expired: renewing automatically (${left} s grace).`);
  else say(`Both tokens expired. Get a new token within ${left} s to keep the conversation.`, 'warning');
});

addEventListener('onEmbeddedMessagingButtonCreated', () => showConversationPlaceholder(false));

addEventListener('tabwarden:session-cleared', (event) => {
  const reason = event.detail?.reason;
  if (reason === 'user-switch' && session.pending) {
    // Our own switch to another user clears the previous session first (R8): keep the new sign-in.
    session.subject = undefined;
    return;
  }
  // The app signs out too when tabwarden gave up on it: its tabs must not join again at once.
  if (reason === 'identity-token-timeout' || reason === 'authorization-revoked') void endAppSession();
  const wasSignedIn = session.subject !== undefined;
  forget();
  if (wasSignedIn) say(CLEAR_REASONS[reason] ?? 'Signed out.', reason === 'logout' ? 'info' : 'warning');
  render();
});

addEventListener('tabwarden:identity-token-refreshed', (event) => {
  // Another tab gave a newer token for the same user (R9); this tab's worker link holds it now.
  const exp = event.detail?.exp;
  if (session.subject && typeof exp === 'number') {
    session.expiresAt = exp * 1000;
    renderExpiry();
  }
});

/** Opens the conversation, as a portal does once its user is signed in: no extra click. */
function openConversation() {
  const panel = document.querySelector('tabwarden-chat-panel');
  if (panel && !panel.open) panel.show();
}

/** The module API behind the facade says when this tab's token was verified. */
function watchVerification(tabwarden) {
  tabwarden.addEventListener('verified', (event) => {
    const { sub, exp } = event.detail ?? {};
    log('verified', describe('verified', { sub, exp }));
    const joined = session.subject === undefined;
    session.subject = sub;
    session.pending = false;
    if (typeof exp === 'number') session.expiresAt = exp * 1000;
    showConversationPlaceholder(false);
    say(`Signed in as ${sub}.`, 'ok');
    render();
    if (joined) openConversation();
  });
}

// ---- start ----------------------------------------------------------------------------------

async function start() {
  const requested = new URLSearchParams(location.search).get('transport');
  const transport = TRANSPORTS.includes(requested) ? requested : 'auto';
  ui.transportChoice.value = transport;
  render();
  void startTimeline();
  if (!window.embeddedservice_bootstrap) {
    setPill(ui.connection, 'Bundles missing', 'error');
    say('The tabwarden bundles are not built: run `npm run build`, then reload.', 'error');
    return;
  }
  try {
    await window.embeddedservice_bootstrap.init({
      worker: { issuer: ISSUER, jwksUrl: '/demo/idp/jwks.json', serverUrl: location.origin },
      transport,
      identityTokenProvider,
    });
    const tabwarden = window.embeddedservice_bootstrap.tabwarden;
    setPill(ui.transport, tabwarden?.transport ?? 'unknown', 'neutral');
    if (tabwarden) watchVerification(tabwarden);
  } catch (error) {
    setPill(ui.connection, 'Failed', 'error');
    say(`Could not connect to the worker: ${error.code ?? error.message}`, 'error');
  }
}

void start();
