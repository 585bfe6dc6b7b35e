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
import { badMessagesFor, postBadMessagesInPage } from './bad-messages.ts';
import { expect, test, type Transport } from './harness.ts';
import { listSharedWorkers } from './workers.ts';

/** Posts every wrong-shaped message to the host of the session, from `tab`. */
async function postBadMessages(tab: Page, transport: Transport): Promise<void> {
  await tab.evaluate(postBadMessagesInPage, badMessagesFor(transport));
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
