// R12 in real Chromium, once per transport: offline, the cached history stays readable, a send
// answers pending from the outbox, and a network failure is never taken for an auth failure — the
// session is kept; online again, the pending message goes out first. goOffline cuts the workers
// off too. (The outbox itself: outbox.spec.ts.)
import { eventsOf, goOffline, goOnline } from '../../src/testing/index.ts';
import { call, readDatabase, signIn, stateOf, value, type ConversationEntry } from './app-driver.ts';
import { expect, test } from './harness.ts';
import { takeSharedWorkersOffline } from './workers.ts';

test('R12: offline the cached history is readable, a send answers pending and the session is kept; online again it is delivered before the next', async ({
  app,
  context,
  transport,
  browser,
}) => {
  const tabs = await app.open(2, { query: { callTimeoutMs: 5_000 } });
  const [writer, reader] = tabs as [(typeof tabs)[0], (typeof tabs)[0]];
  const token = await app.mint('alice');
  for (const tab of tabs) await signIn(tab, token);
  const { conversationId } = await value<{ conversationId: string }>(writer, 'startConversation');
  await value(writer, 'sendMessage', 'first, online');
  await value(writer, 'sendMessage', 'second, online');
  const online = await value<ConversationEntry[]>(reader, 'listEntries', 0);
  expect(online.map((entry) => entry.text)).toEqual(
    expect.arrayContaining(['first, online', 'second, online']),
  );
  const sessionBefore = (await readDatabase(reader))!.session[0]!;

  await goOffline(context);
  // goOffline does not reach a SharedWorker's fetches in Chromium; cut it off as well.
  const reconnectSharedWorker =
    transport === 'shared-worker' ? await takeSharedWorkersOffline(browser, app.server.url) : undefined;
  try {
    expect(await reader.evaluate(() => navigator.onLine)).toBe(false);
    // The history read online comes from the cache, in both tabs, whole or after a sequence number.
    for (const tab of tabs) {
      expect(await call(tab, 'listEntries', 0)).toEqual({ ok: true, value: online });
    }
    expect(await call(reader, 'listEntries', online[0]!.seq)).toEqual({ ok: true, value: online.slice(1) });

    const started = Date.now();
    expect(await call(writer, 'sendMessage', 'written offline')).toMatchObject({
      ok: true,
      value: { status: 'pending', text: 'written offline', conversationId },
    });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await call(writer, 'startConversation')).toMatchObject({ ok: true, value: { conversationId } });

    // Not an auth failure: nothing cleared, no token asked for, the session record untouched.
    for (const tab of tabs) {
      expect(await stateOf(tab)).toMatchObject({ verified: true, conversationId });
      expect(await eventsOf(tab, 'tabwarden:session-cleared')).toHaveLength(0);
      expect(await eventsOf(tab, 'onEmbeddedMessagingIdentityTokenExpired')).toHaveLength(0);
    }
    expect((await readDatabase(writer))!.session).toEqual([sessionBefore]);
  } finally {
    await reconnectSharedWorker?.();
    await goOnline(context);
  }

  const sent = await value<ConversationEntry>(writer, 'sendMessage', 'back online');
  expect(sent.conversationId).toBe(conversationId);
  const after = await value<ConversationEntry[]>(reader, 'listEntries', 0);
  const texts = after.filter((entry) => entry.role === 'user').map((entry) => entry.text);
  expect(texts).toEqual(['first, online', 'second, online', 'written offline', 'back online']);
  expect(app.server.exchangeCount()).toBe(1);
});
