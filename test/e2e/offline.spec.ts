// R12 in real Chromium, once per transport, through the test kit (kit-app.ts): offline, the
// cached history stays readable, a send answers pending from the outbox, and a network failure is
// never taken for an auth failure — the session is kept; online again, the pending message goes
// out first. The kit's `network.offline()` cuts the workers off too, SharedWorkers included.
// (The outbox itself: outbox.spec.ts.)
import type { Page } from '@playwright/test';
import { readDatabase } from './app-driver.ts';
import { expect, test } from './kit-app.ts';

test.use({ appQuery: { callTimeoutMs: 5_000 } });

test('R12: offline the cached history is readable, a send answers pending and the session is kept; online again it is delivered before the next', async ({
  tabs,
  network,
  server,
  events,
}) => {
  const [writer, reader] = (await tabs.open(2, { as: 'alice' })) as [Page, Page];
  const { conversationId } = await tabs.call(writer, 'startConversation');
  await tabs.call(writer, 'sendMessage', 'first, online');
  await tabs.call(writer, 'sendMessage', 'second, online');
  const online = await tabs.call(reader, 'listEntries', 0);
  expect(online.map((entry) => entry.text)).toEqual(
    expect.arrayContaining(['first, online', 'second, online']),
  );
  const sessionBefore = (await readDatabase(reader))!.session[0]!;

  await network.offline();
  try {
    expect(await reader.evaluate(() => navigator.onLine)).toBe(false);
    // The history read online comes from the cache, in both tabs, whole or after a sequence number.
    for (const tab of [writer, reader]) {
      expect(await tabs.call(tab, 'listEntries', 0)).toEqual(online);
    }
    expect(await tabs.call(reader, 'listEntries', online[0]!.seq)).toEqual(online.slice(1));

    const started = Date.now();
    expect(await tabs.call(writer, 'sendMessage', 'written offline')).toMatchObject({
      status: 'pending',
      text: 'written offline',
      conversationId,
    });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await tabs.call(writer, 'startConversation')).toMatchObject({ conversationId });

    // Not an auth failure: nothing cleared, no token asked for, the session record untouched.
    for (const tab of [writer, reader]) {
      expect(await tabs.state(tab)).toMatchObject({ verified: true, conversationId });
      expect(await events.of(tab, 'tabwarden:session-cleared')).toHaveLength(0);
      expect(await events.of(tab, 'onEmbeddedMessagingIdentityTokenExpired')).toHaveLength(0);
    }
    expect((await readDatabase(writer))!.session).toEqual([sessionBefore]);
  } finally {
    await network.online();
  }

  const sent = await tabs.call(writer, 'sendMessage', 'back online');
  expect(sent.conversationId).toBe(conversationId);
  const after = await tabs.call(reader, 'listEntries', 0);
  const texts = after.filter((entry) => entry.role === 'user').map((entry) => entry.text);
  expect(texts).toEqual(['first, online', 'second, online', 'written offline', 'back online']);
  expect(server.count('POST /v1/authorization')).toBe(1);
});
