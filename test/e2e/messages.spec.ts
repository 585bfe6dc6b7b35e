// R13 in real Chromium, once per transport: messages of the wrong shape posted from a page to
// whatever hosts the shared session — the service worker, the SharedWorker, or the in-page
// leader's BroadcastChannel — change nothing. Well-formed messages from a same-origin page are
// the API itself (a page can call it anyway), so only malformed ones are sent here.
import type { Page } from '@playwright/test';
import { eventsOf } from '../../src/testing/index.ts';
import {
  expectNoTokenStored,
  readDatabase,
  signIn,
  stateOf,
  value,
  type ConversationEntry,
} from './app-driver.ts';
import { expect, test, type Transport } from './harness.ts';
import { listSharedWorkers } from './workers.ts';

// Connect messages a host must ignore: wrong types, protocol versions, ids, missing fields.
const BAD_CONNECTS: unknown[] = [
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
const BAD_CHANNEL_MESSAGES: unknown[] = [
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

/** Posts every wrong-shaped message to the host of the session, from `tab`. */
async function postBadMessages(tab: Page, transport: Transport): Promise<void> {
  await tab.evaluate(
    ({ transport, connects, channelMessages }) => {
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
    },
    { transport, connects: BAD_CONNECTS, channelMessages: BAD_CHANNEL_MESSAGES },
  );
}

test('R13: messages of the wrong shape posted to the worker from a page change nothing', async ({
  app,
  transport,
  browser,
}) => {
  const tabs = await app.open(2);
  const token = await app.mint('alice');
  for (const tab of tabs) await signIn(tab, token);
  const { conversationId } = await value<{ conversationId: string }>(tabs[0]!, 'startConversation');
  await value(tabs[0]!, 'sendMessage', 'before the garbage');
  const statesBefore = await Promise.all(tabs.map((tab) => stateOf(tab)));
  const sessionBefore = (await readDatabase(tabs[0]!))!.session;
  const exchanges = app.server.exchangeCount();

  await postBadMessages(tabs[1]!, transport);
  // A round trip through the host after the garbage: it is still there and answers.
  const sent = await value<ConversationEntry>(tabs[1]!, 'sendMessage', 'after the garbage');
  expect(sent.conversationId).toBe(conversationId);
  const texts = (await value<ConversationEntry[]>(tabs[0]!, 'listEntries', 0)).map((entry) => entry.text);
  expect(texts).toEqual(expect.arrayContaining(['before the garbage', 'after the garbage']));

  // Nothing changed: same state and session version in both tabs, same stored session, no event.
  for (const [i, tab] of tabs.entries()) {
    expect(await stateOf(tab)).toEqual(statesBefore[i]);
    for (const name of [
      'tabwarden:session-cleared',
      'onEmbeddedMessagingIdentityTokenExpired',
      'onEmbeddedMessagingIdentityTokenRejected',
      'tabwarden:identity-token-refreshed',
    ]) {
      expect(await eventsOf(tab, name), name).toHaveLength(0);
    }
    expect(await eventsOf(tab, 'onEmbeddedMessagingReady')).toHaveLength(1);
    await expectNoTokenStored(tab, [token]);
  }
  expect((await readDatabase(tabs[1]!))!.session).toEqual(sessionBefore);
  expect(app.server.exchangeCount()).toBe(exchanges);
  if (transport === 'shared-worker') {
    // The garbage went to the very worker the tabs share, not to a second one.
    expect(await listSharedWorkers(browser, app.server.url)).toHaveLength(1);
  }
});
