// R7, R8 and R9 in real Chromium, once per transport: a logout in one tab clears every tab and
// the origin's storage before its promise resolves; another user's token clears the previous
// user's session everywhere first; a newer token for the same user reaches every tab.
import type { Page } from '@playwright/test';
import { eventsOf, waitForEvent } from '../../src/testing/index.ts';
import {
  eventsNamed,
  expectNoTokenStored,
  facadeSetIdentityToken,
  readDatabase,
  stateOf,
  type DatabaseDump,
} from './app-driver.ts';
import { expect, test } from './kit-app.ts';

/** Runs the seed's clearSession in `tab` and reads what the page sees the moment it resolves. */
function clearAndInspect(tab: Page, shouldEndSession: boolean) {
  return tab.evaluate(async (end) => {
    const outcome = await window.app.clearSession!(end);
    const resolvedAt = Date.now();
    const database = await window.app.readDatabase();
    const webStorage = localStorage.length + sessionStorage.length;
    const cacheNames = await caches.keys();
    return { outcome, resolvedAt, database, webStorage, cacheNames };
  }, shouldEndSession);
}

function expectNothingOfTheSession(database: DatabaseDump | null): void {
  // The database may stay (its version counter does), but holds no session, entry or outbox item.
  if (database === null) return;
  expect(database.session).toEqual([]);
  expect(database.entries).toEqual([]);
  expect(database.outbox).toEqual([]);
}

test('R7: clearSession in tab 3 of 5 clears every tab, fires Ready again everywhere and wipes storage before it resolves', async ({
  tabs: kit,
  identityProvider,
}) => {
  const tabs = await kit.open(5);
  const token = await identityProvider.mint('alice');
  for (const tab of tabs) await kit.signIn(tab, token);
  const { conversationId } = await kit.call(tabs[0]!, 'startConversation');
  await kit.call(tabs[1]!, 'sendMessage', 'first message');
  await kit.call(tabs[4]!, 'sendMessage', 'second message');
  await kit.call(tabs[2]!, 'listEntries', 0);
  const before = await readDatabase(tabs[2]!);
  expect(before!.session).toHaveLength(1);
  expect(before!.entries.length).toBeGreaterThanOrEqual(2);

  const cleared = await clearAndInspect(tabs[2]!, true);
  expect(cleared.outcome).toEqual({ ok: true });
  // Durable before the promise resolved: nothing of the session in IndexedDB, Web Storage or
  // Cache Storage.
  expectNothingOfTheSession(cleared.database);
  expect(cleared.webStorage).toBe(0);
  expect(cleared.cacheNames).toEqual([]);

  // Every tab had confirmed before it resolved: each had dropped its session and fired Ready again.
  for (const tab of tabs) {
    const clearedEvents = await eventsOf<{ reason: string }>(tab, 'tabwarden:session-cleared');
    expect(clearedEvents.map((event) => event.detail)).toEqual([{ reason: 'logout' }]);
    expect(clearedEvents[0]!.at).toBeLessThanOrEqual(cleared.resolvedAt);
    const ready = await eventsOf(tab, 'onEmbeddedMessagingReady');
    expect(ready).toHaveLength(2);
    expect(ready[1]!.at).toBeLessThanOrEqual(cleared.resolvedAt);
    expect(await stateOf(tab)).toMatchObject({ verified: false });
    expect((await stateOf(tab)).conversationId).toBeUndefined();
    await expectNoTokenStored(tab, [token]);
  }

  // After the clear every call needs a new token, in every tab — the old one is gone from memory.
  for (const tab of tabs) {
    await expect(kit.call(tab, 'sendMessage', 'after logout')).rejects.toMatchObject({
      code: 'ERR_NOT_VERIFIED',
    });
    await expect(kit.call(tab, 'startConversation')).rejects.toMatchObject({ code: 'ERR_NOT_VERIFIED' });
  }

  // Idempotent: clearing again resolves and leaves everything cleared.
  expect((await clearAndInspect(tabs[0]!, false)).outcome).toEqual({ ok: true });
  expect(await stateOf(tabs[0]!)).toMatchObject({ verified: false });

  // A new token starts afresh; the ended conversation is not resumed.
  expect(await facadeSetIdentityToken(tabs[3]!, await identityProvider.mint('alice'))).toBe(true);
  await waitForEvent(tabs[3]!, 'app:verified');
  const next = await kit.call(tabs[3]!, 'startConversation');
  expect(next.conversationId).not.toBe(conversationId);
  expect(await kit.call(tabs[3]!, 'listEntries', 0)).toEqual([]);
});

test('R8: another user’s token in one tab clears the old session everywhere first; nothing of alice is visible to bob', async ({
  tabs: kit,
  identityProvider,
}) => {
  const [aliceTab, switchTab] = await kit.open(2);
  const aliceToken = await identityProvider.mint('alice');
  for (const tab of [aliceTab!, switchTab!]) await kit.signIn(tab, aliceToken);
  const alice = await kit.call(aliceTab!, 'startConversation');
  await kit.call(aliceTab!, 'sendMessage', 'alice’s secret');
  await kit.call(switchTab!, 'listEntries', 0);

  // The app forgot clearSession: bob signs in over alice's session.
  const bobToken = await identityProvider.mint('bob');
  expect(await kit.signIn(switchTab!, bobToken)).toMatchObject({ sub: 'bob' });

  for (const tab of [aliceTab!, switchTab!]) {
    const cleared = await waitForEvent<{ reason: string }>(tab, 'tabwarden:session-cleared');
    expect(cleared.detail).toEqual({ reason: 'user-switch' });
    expect(await eventsOf(tab, 'tabwarden:session-cleared')).toHaveLength(1);
    await waitForEvent(tab, 'onEmbeddedMessagingReady', { count: 2 });
  }
  // In the switching tab the clear came first, then bob's verification.
  const names = (await eventsOf(switchTab!)).map((event) => event.name);
  const bobVerified = names.lastIndexOf('app:verified');
  expect(names.indexOf('tabwarden:session-cleared')).toBeLessThan(bobVerified);
  expect(await stateOf(switchTab!)).toMatchObject({ verified: true, subject: { sub: 'bob' } });
  // Alice's tab is signed out, not moved over to bob.
  expect(await stateOf(aliceTab!)).toMatchObject({ verified: false });
  await expect(kit.call(aliceTab!, 'listEntries', 0)).rejects.toMatchObject({ code: 'ERR_NOT_VERIFIED' });
  // Nothing of alice stored before bob's session begins.
  expectNothingOfTheSession(await readDatabase(switchTab!));

  const bob = await kit.call(switchTab!, 'startConversation');
  expect(bob.subject.sub).toBe('bob');
  expect(bob.conversationId).not.toBe(alice.conversationId);
  await kit.call(switchTab!, 'sendMessage', 'bob here');
  const bobSees = await kit.call(switchTab!, 'listEntries', 0);
  expect(bobSees.map((entry) => entry.text)).not.toContain('alice’s secret');
  expect(bobSees.every((entry) => entry.conversationId === bob.conversationId)).toBe(true);
  const stored = await readDatabase(switchTab!);
  expect(stored!.session.map((record) => record.subject.sub)).toEqual(['bob']);
  expect(JSON.stringify(stored)).not.toContain('alice’s secret');
  expect(JSON.stringify(stored)).not.toContain(alice.conversationId);
  // Alice's tab was not told of bob's conversation.
  expect(await eventsOf(aliceTab!, 'onEmbeddedMessagingConversationStarted')).toHaveLength(1);
  for (const tab of [aliceTab!, switchTab!]) await expectNoTokenStored(tab, [aliceToken, bobToken]);
});

test('R9: a newer token in one tab reaches the other verified tabs as identity-token-refreshed', async ({
  tabs: kit,
  identityProvider,
}) => {
  const [first, refresher, third] = await kit.open(3);
  const [unverified] = await kit.open(1);
  const initial = await identityProvider.mint({ sub: 'alice', expiresInSeconds: 600 });
  for (const tab of [first!, refresher!, third!]) await kit.signIn(tab, initial);
  await kit.call(first!, 'startConversation');

  const newer = await identityProvider.mint({ sub: 'alice', expiresInSeconds: 900 });
  expect(await facadeSetIdentityToken(refresher!, newer)).toBe(true);
  const { exp } = (await waitForEvent<{ exp: number }>(refresher!, 'app:verified', { count: 2 })).detail;
  for (const tab of [first!, third!]) {
    const refreshed = await waitForEvent<{ exp: number }>(tab, 'tabwarden:identity-token-refreshed');
    expect(refreshed.detail).toEqual({ exp });
  }

  // An older token is accepted for its tab but announces nothing; a newer one from the first tab
  // reaches the other two. (Events of one worker reach a tab in order, so the counts below would
  // include anything the older token had sent.)
  await kit.signIn(third!, await identityProvider.mint({ sub: 'alice', expiresInSeconds: 300 }));
  const newest = await identityProvider.mint({ sub: 'alice', expiresInSeconds: 1200 });
  const { exp: newestExp } = await kit.signIn(first!, newest);
  for (const tab of [refresher!, third!]) {
    await expect
      .poll(
        async () =>
          (await eventsOf<{ exp: number }>(tab, 'tabwarden:identity-token-refreshed')).at(-1)?.detail,
      )
      .toEqual({ exp: newestExp });
  }
  expect(await eventsOf(first!, 'tabwarden:identity-token-refreshed')).toHaveLength(1);
  expect(await eventsOf(refresher!, 'tabwarden:identity-token-refreshed')).toHaveLength(1);
  expect(await eventsOf(third!, 'tabwarden:identity-token-refreshed')).toHaveLength(2);
  // A tab that never verified learns nothing.
  expect(await eventsNamed(unverified!, 'app:identity-token-refreshed')).toHaveLength(0);
  expect(await stateOf(unverified!)).toMatchObject({ verified: false });
  for (const tab of [first!, refresher!, third!]) {
    expect(await eventsOf(tab, 'tabwarden:session-cleared')).toHaveLength(0);
    await expectNoTokenStored(tab, [initial, newer, newest]);
  }
});
