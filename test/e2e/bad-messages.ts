// Wrong-shaped messages for the host of the shared session (R13), shared by the Chromium suite
// (messages.spec.ts) and the cross-engine contract (test/engines): the service worker, the
// SharedWorker, or the in-page leader's BroadcastChannel must ignore every one of them.
import type { Transport } from './harness.ts';

// Connect messages a host must ignore: wrong types, protocol versions, ids, missing fields.
export const BAD_CONNECTS: unknown[] = [
  null,
  'tabwarden:connect',
  42,
  [],
  {},
  { type: 'tabwarden:connect' },
  { type: 'tabwarden:connect', protocol: 2, tabId: 'intruder' },
  { type: 'tabwarden:connect', protocol: '1', tabId: 'intruder' },
  { type: 'tabwarden:connect', protocol: 1, tabId: '' },
  { type: 'tabwarden:connect', protocol: 1, tabId: 'x'.repeat(1_000) },
  { type: 'tabwarden:connect', protocol: 1, tabId: { toString: null } },
  { type: 'tabwarden:disconnect', protocol: 1, tabId: 'intruder' },
  // An event envelope travels worker -> page only; sent the other way it means nothing.
  {
    type: 'tabwarden:event',
    protocol: 1,
    tabId: '*',
    event: { type: 'session-cleared', sessionVersion: 99, reason: 'logout' },
  },
];

// In-page transport messages of the wrong shape (the leader listens on the channel).
export const BAD_CHANNEL_MESSAGES: unknown[] = [
  null,
  'clearSession',
  { type: 'tabwarden:call' },
  {
    type: 'tabwarden:call',
    protocol: 2,
    tabId: 'intruder',
    callId: 'c1',
    method: 'clearSession',
    args: [true],
  },
  {
    type: 'tabwarden:call',
    protocol: 1,
    tabId: 'intruder',
    callId: 'c2',
    method: 'clearSession',
    args: 'true',
  },
  { type: 'tabwarden:call', protocol: 1, tabId: '', callId: 'c3', method: 'clearSession', args: [true] },
  { type: 'tabwarden:call', protocol: 1, tabId: 'intruder', callId: 'c4', method: 'subscribe', args: [] },
  { type: 'tabwarden:call', protocol: 1, tabId: 'intruder', callId: 'c5', method: '__proto__', args: [] },
  { type: 'tabwarden:call', protocol: 1, tabId: 'intruder', callId: 'c6', method: 'constructor', args: [] },
  {
    type: 'tabwarden:call',
    protocol: 1,
    tabId: 'x'.repeat(1_000),
    callId: 'c7',
    method: 'clearSession',
    args: [],
  },
  { type: 'tabwarden:event', protocol: 1, tabId: '*', ackId: 'a1', event: { type: 'session-cleared' } },
  {
    type: 'tabwarden:event',
    protocol: 1,
    tabId: '*',
    ackId: 'a2',
    event: { type: 'session-cleared', sessionVersion: 99, reason: 'bogus' },
  },
  {
    type: 'tabwarden:event',
    protocol: 1,
    tabId: '*',
    ackId: 'a3',
    event: { type: 'identity-token-expired', sessionVersion: 99, deadline: 'soon' },
  },
  { type: 'tabwarden:reply', protocol: 1, tabId: 'intruder', callId: 'c1' },
  { type: 'tabwarden:ack', protocol: 1 },
];

/** What {@link postBadMessagesInPage} posts, and where. */
export interface BadMessages {
  transport: Transport;
  connects: unknown[];
  channelMessages: unknown[];
}

/**
 * The messages for `transport`, as JSON: WebDriver BiDi (Firefox) cannot hand a page an object
 * with an own `toString` property, so they travel as text.
 */
export function badMessagesFor(transport: Transport): string {
  const messages: BadMessages = { transport, connects: BAD_CONNECTS, channelMessages: BAD_CHANNEL_MESSAGES };
  return JSON.stringify(messages);
}

/**
 * Runs in a page (sent as source to the browser: self-contained): posts every wrong-shaped
 * message to the host of the session.
 */
export function postBadMessagesInPage(json: string): void {
  const { transport, connects, channelMessages } = JSON.parse(json) as BadMessages;
  // Some messages carry a port, as a real connect does, so a host that took them would answer.
  const withPort = (post: (message: unknown, transfer: Transferable[]) => void) => {
    for (const message of connects) {
      post(message, []);
      const { port2 } = new MessageChannel();
      post(message, [port2]);
    }
  };
  if (transport === 'service-worker') {
    const worker = navigator.serviceWorker.controller!;
    withPort((message, transfer) => worker.postMessage(message, transfer));
  } else if (transport === 'shared-worker') {
    const worker = new SharedWorker(window.app.sharedWorkerUrl(), { type: 'module', name: 'tabwarden' });
    withPort((message, transfer) => worker.port.postMessage(message, transfer));
    // Garbage on the port the tab's real link uses comes next: an unserialisable-looking call.
    worker.port.postMessage({ id: 'x', type: 'APPLY', path: ['clearSession'], argumentList: 'nope' });
  } else {
    const channel = new BroadcastChannel('tabwarden');
    for (const message of channelMessages) channel.postMessage(message);
    channel.close();
  }
}
