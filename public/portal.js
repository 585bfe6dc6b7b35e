// The demo portal: a page written against the seed's script-tag API
// (window.embeddedservice_bootstrap), plus tabwarden's UI bundle, which mounts the conversation
// button into [data-tabwarden-ui] by itself. Plain browser JavaScript: no build, no inline code,
// so the page's `default-src 'self'` policy holds.
//
// The identity token lives in one variable of this module and nowhere else: never in storage,
// the URL, a DOM attribute or the event log (R3).

const ISSUER = 'urn:tabwarden:demo-identity-provider';
const TRANSPORTS = ['auto', 'service-worker', 'shared-worker', 'in-page'];
const MAX_LOG_ITEMS = 200;

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
  message: $('account-message'),
  placeholder: $('conversation-placeholder'),
  log: $('event-log'),
  clearLog: $('clear-log'),
  transportChoice: $('transport-choice'),
};

/** This tab's sign-in, in memory only. `identityToken` is never written anywhere. */
const session = {
  ready: false,
  /** The user this tab signed in as, once its token was verified. */
  subject: undefined,
  /** A sign-in (or renewal) waiting for the worker's verdict. */
  pending: undefined,
  identityToken: undefined,
  expiresAt: undefined,
  lifetimeSeconds: 120,
};

// ---- the event log --------------------------------------------------------------------------

const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]*$/;
const timeFormat = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  fractionalSecondDigits: 3,
});

/** JSON of an event's detail with anything token-like blanked, as a second line of defence. */
function describeDetail(detail) {
  if (detail === undefined || detail === null) return '';
  return JSON.stringify(detail, (key, value) => {
    if (typeof value !== 'string') return value;
    if (/token/i.test(key) || JWT_SHAPE.test(value) || value === session.identityToken) return '[redacted]';
    return value;
  });
}

function log(source, name, detail) {
  const now = new Date();
  const item = document.createElement('li');
  item.className = `log-item ${source}`;
  const time = document.createElement('time');
  time.dateTime = now.toISOString();
  time.textContent = timeFormat.format(now);
  const label = document.createElement('span');
  label.className = 'log-name';
  label.textContent = name;
  const body = document.createElement('code');
  body.className = 'log-detail';
  body.textContent = describeDetail(detail);
  item.append(time, label, body);
  ui.log.prepend(item);
  while (ui.log.childElementCount > MAX_LOG_ITEMS) ui.log.lastElementChild.remove();
}

function note(text) {
  log('portal', text);
}

ui.clearLog.addEventListener('click', () => ui.log.replaceChildren());

for (const name of WINDOW_EVENTS) {
  addEventListener(name, (event) => log('window', name, event.detail));
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
  ui.signIn.disabled = !session.ready || session.pending !== undefined;
  ui.renewNow.disabled = !session.ready || session.pending !== undefined;
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

// ---- signing in and out ---------------------------------------------------------------------

/** Asks the demo identity provider for a token (docs/server.md, demo mode only). */
async function mintIdentityToken(sub, expiresInSeconds) {
  const response = await fetch('/demo/idp/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sub, expiresInSeconds }),
    cache: 'no-store',
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(`${body.code ?? response.status}: ${body.message ?? 'no token'}`);
  return body;
}

/** Sets the demo server's authorization token lifetime for the exchanges that follow. */
async function setAccessTokenLifetime(seconds) {
  const response = await fetch('/demo/settings', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ accessTokenLifetimeSeconds: seconds }),
  });
  if (response.ok) note(`authorization tokens now live ${formatDuration(seconds)}`);
  else say('Could not set the authorization token lifetime.', 'error');
}

/** Mints a token for `sub` and hands it over with the seed's API. */
async function presentToken(sub, why) {
  if (session.pending) return;
  session.pending = sub;
  render();
  try {
    const minted = await mintIdentityToken(sub, session.lifetimeSeconds);
    note(
      `${why}: minted an identity token for "${sub}" (${formatDuration(Math.abs(session.lifetimeSeconds))})`,
    );
    const accepted = window.embeddedservice_bootstrap.userVerificationAPI.setIdentityToken({
      identityTokenType: 'JWT',
      identityToken: minted.identityToken,
    });
    note(`setIdentityToken returned ${accepted}`);
    if (!accepted) {
      // Refused before verification; onEmbeddedMessagingIdentityTokenRejected says why.
      session.pending = undefined;
      return;
    }
    session.identityToken = minted.identityToken;
    session.expiresAt = minted.expiresAt;
  } catch (error) {
    session.pending = undefined;
    say(`Could not get a token: ${error.message}`, 'error');
  } finally {
    render();
  }
}

ui.signInForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const sub = ui.userName.value.trim();
  if (!sub) {
    say('Enter a user name.', 'error');
    ui.userName.focus();
    return;
  }
  const form = new FormData(ui.signInForm);
  session.lifetimeSeconds = Number(form.get('lifetime'));
  say('Signing in…');
  void setAccessTokenLifetime(Number(form.get('access-lifetime'))).then(() => presentToken(sub, 'sign-in'));
});

ui.renewNow.addEventListener('click', () => {
  if (session.subject) void presentToken(session.subject, 'renewal');
});

ui.signOut.addEventListener('click', async () => {
  ui.signOut.disabled = true;
  say('Signing out in every tab…');
  try {
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
  session.pending = undefined;
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
  session.pending = undefined;
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
  if (session.subject && ui.autoRenew.checked) {
    say(`Both tokens expired: renewing automatically (${left} s grace).`);
    void presentToken(session.subject, 'automatic renewal');
  } else if (session.subject) {
    say(`Both tokens expired. Get a new token within ${left} s to keep the conversation.`, 'warning');
  }
});

addEventListener('onEmbeddedMessagingButtonCreated', () => showConversationPlaceholder(false));

addEventListener('tabwarden:session-cleared', (event) => {
  const reason = event.detail?.reason;
  // Our own switch to another user clears the previous session first (R8): keep the new sign-in.
  if (reason === 'user-switch' && session.pending) return;
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

/** The module API behind the facade says when this tab's token was verified. */
function watchVerification(tabwarden) {
  tabwarden.addEventListener('verified', (event) => {
    const { sub, exp } = event.detail ?? {};
    log('tabwarden', 'verified (module API)', { sub, exp });
    session.subject = sub;
    session.pending = undefined;
    if (typeof exp === 'number') session.expiresAt = exp * 1000;
    showConversationPlaceholder(false);
    say(`Signed in as ${sub}.`, 'ok');
    render();
  });
}

// ---- start ----------------------------------------------------------------------------------

async function start() {
  const requested = new URLSearchParams(location.search).get('transport');
  const transport = TRANSPORTS.includes(requested) ? requested : 'auto';
  ui.transportChoice.value = transport;
  render();
  if (!window.embeddedservice_bootstrap) {
    setPill(ui.connection, 'Bundles missing', 'error');
    say('The tabwarden bundles are not built: run `npm run build`, then reload.', 'error');
    return;
  }
  try {
    await window.embeddedservice_bootstrap.init({
      worker: { issuer: ISSUER, jwksUrl: '/demo/idp/jwks.json', serverUrl: location.origin },
      transport,
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
