// The browser's storage failing under a running worker, once per transport: the site's data
// deleted (the user clears it, or the app answers logout with `Clear-Site-Data: "storage"`), and
// the storage quota used up. Each case: a coded error where a call cannot succeed, nothing
// reported failed that the server stored, nothing written back that was deleted.
import type { Page } from '@playwright/test';
import { readDatabase } from './app-driver.ts';
import { expect, test } from './kit-app.ts';

/** Deletes the tabwarden database from `tab`, as clearing the site's data does. */
function deleteDatabase(tab: Page): Promise<string> {
  return tab.evaluate(
    () =>
      new Promise<string>((resolve) => {
        const request = indexedDB.deleteDatabase('tabwarden');
        request.onsuccess = () => resolve('deleted');
        request.onerror = () => resolve(`error: ${request.error?.name}`);
        // The worker steps aside when asked: a blocked deletion would wait for it forever.
        request.onblocked = () => resolve('blocked');
      }),
  );
}

/**
 * Overrides the storage quota of the tab's origin (DevTools protocol); `undefined` restores it.
 * The override lasts as long as the DevTools session, so the tab keeps one.
 */
async function quotaOf(tab: Page): Promise<(quotaSize: number | undefined) => Promise<void>> {
  const cdp = await tab.context().newCDPSession(tab);
  const origin = new URL(tab.url()).origin;
  return async (quotaSize) => {
    await cdp.send('Storage.overrideQuotaForOrigin', {
      origin,
      ...(quotaSize === undefined ? {} : { quotaSize }),
    });
  };
}

test('R7: the database deleted under a running worker clears the session in every tab (storage-cleared); a new token starts afresh', async ({
  tabs,
  events,
  server,
}) => {
  const [first, second] = await tabs.open(2, { as: 'alice' });
  const { conversationId } = await tabs.call(first, 'startConversation');
  await tabs.call(first, 'sendMessage', 'before the wipe');

  expect(await deleteDatabase(first)).toBe('deleted');

  for (const tab of [first, second]) {
    const cleared = await events.wait<{ reason: string }>(tab, 'tabwarden:session-cleared');
    expect(cleared.detail).toEqual({ reason: 'storage-cleared' });
    expect(await tabs.state(tab)).toMatchObject({ verified: false });
  }
  // Nothing of the session was written back; the worker works on a fresh database.
  expect(await readDatabase(second)).toMatchObject({ session: [], entries: [], outbox: [] });
  await expect(tabs.call(second, 'sendMessage', 'x')).rejects.toMatchObject({ code: 'ERR_NOT_VERIFIED' });
  await tabs.signIn(second, 'alice');
  // The server kept the conversation (the wipe did not end it): the new session resumes it.
  expect((await tabs.call(second, 'startConversation')).conversationId).toBe(conversationId);
  expect((await tabs.call(second, 'sendMessage', 'after the wipe')).text).toBe('after the wipe');
  expect(server.count('POST /v1/authorization')).toBe(2);
});

test('R4/R12: with the storage quota used up, a new session fails ERR_STORAGE and starts once there is room; a send the server stored is reported delivered', async ({
  tabs,
}) => {
  const [first, second] = await tabs.open(2, { as: 'alice' });
  const overrideQuota = await quotaOf(first);
  await overrideQuota(1);
  await expect(tabs.call(first, 'startConversation')).rejects.toMatchObject({ code: 'ERR_STORAGE' });
  expect(await tabs.state(second)).not.toHaveProperty('conversationId');

  await overrideQuota(undefined);
  const { conversationId } = await tabs.call(second, 'startConversation');
  await overrideQuota(1);
  expect(await tabs.call(first, 'sendMessage', 'stored by the server')).toMatchObject({
    conversationId,
    text: 'stored by the server',
  });
  await overrideQuota(undefined);
  // Stored once, though the worker's cache refused it.
  const texts = (await tabs.call(second, 'listEntries', 0)).map((entry) => entry.text);
  expect(texts.filter((text) => text === 'stored by the server')).toHaveLength(1);
});
