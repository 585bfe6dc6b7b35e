// R13 in real Chromium, once per transport: messages of the wrong shape posted from a page to
// whatever hosts the shared session — the service worker, the SharedWorker, or the in-page
// leader's BroadcastChannel — change nothing. Well-formed messages from a same-origin page are
// the API itself (a page can call it anyway), so only malformed ones are sent here.
import type { Page } from '@playwright/test';
import { eventsOf } from '../../src/testing/index.ts';
import { expectNoTokenStored, readDatabase, stateOf } from './app-driver.ts';
import { badMessagesFor, postBadMessagesInPage } from './bad-messages.ts';
import type { Transport } from './harness.ts';
import { expect, test } from './kit-app.ts';
import { listSharedWorkers } from './workers.ts';

/** Posts every wrong-shaped message to the host of the session, from `tab`. */
async function postBadMessages(tab: Page, transport: Transport): Promise<void> {
  await tab.evaluate(postBadMessagesInPage, badMessagesFor(transport));
}

test('R13: messages of the wrong shape posted to the worker from a page change nothing', async ({
  tabs,
  server,
  identityProvider,
  transport,
  browser,
}) => {
  const open = await tabs.open(2);
  const token = await identityProvider.mint('alice');
  for (const tab of open) await tabs.signIn(tab, token);
  const { conversationId } = await tabs.call(open[0]!, 'startConversation');
  await tabs.call(open[0]!, 'sendMessage', 'before the garbage');
  const statesBefore = await Promise.all(open.map((tab) => stateOf(tab)));
  const sessionBefore = (await readDatabase(open[0]!))!.session;
  const exchanges = server.count('POST /v1/authorization');

  await postBadMessages(open[1]!, transport);
  // A round trip through the host after the garbage: it is still there and answers.
  const sent = await tabs.call(open[1]!, 'sendMessage', 'after the garbage');
  expect(sent.conversationId).toBe(conversationId);
  const texts = (await tabs.call(open[0]!, 'listEntries', 0)).map((entry) => entry.text);
  expect(texts).toEqual(expect.arrayContaining(['before the garbage', 'after the garbage']));

  // Nothing changed: same state and session version in both tabs, same stored session, no event.
  for (const [i, tab] of open.entries()) {
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
  expect((await readDatabase(open[1]!))!.session).toEqual(sessionBefore);
  expect(server.count('POST /v1/authorization')).toBe(exchanges);
  if (transport === 'shared-worker') {
    // The garbage went to the very worker the tabs share, not to a second one.
    expect(await listSharedWorkers(browser, server.url)).toHaveLength(1);
  }
});
