// R10 for a service worker's own lifecycle: a new version of the worker script takes over
// mid-session (skipWaiting + clients.claim) and restores everything from IndexedDB, between calls
// and while an exchange is on the wire (two versions at once, docs/faults.md). Through the test
// kit: `worker.update()` publishes a byte-different script and waits until every tab is
// controlled by it.
import { facadeClearSession, stateOf } from './app-driver.ts';
import { expect, test } from './kit-app.ts';

test('R10: a new version of the service worker takes over mid-session; the session and the conversation go on', async ({
  tabs,
  worker,
  server,
}) => {
  const [first, second] = await tabs.open(2, { as: 'alice' });
  const { conversationId } = await tabs.call(first, 'startConversation');
  await tabs.call(first, 'sendMessage', 'before the update');

  await worker.update();

  const sent = await tabs.call(second, 'sendMessage', 'after the update');
  expect(sent.conversationId).toBe(conversationId);
  for (const tab of [first, second])
    expect(await stateOf(tab)).toMatchObject({ verified: true, conversationId });
  const texts = (await tabs.call(first, 'listEntries', 0))
    .filter((entry) => entry.role === 'user')
    .map((entry) => entry.text);
  expect(texts).toEqual(['before the update', 'after the update']);
  expect(server.count('POST /v1/authorization')).toBe(1);
});

test('R10/R7: after a new version took over, a logout in one tab still clears a tab idle since', async ({
  tabs,
  worker,
  events,
}) => {
  const [active, idle] = await tabs.open(2, { as: 'alice' });
  await tabs.call(active, 'startConversation');

  await worker.update();
  // The idle tab makes no call: the new worker knows it only because it asked every tab it took
  // over to reconnect.
  expect(await facadeClearSession(active)).toEqual({ ok: true });
  const cleared = await events.wait<{ reason: string }>(idle, 'tabwarden:session-cleared', {
    timeoutMs: 5_000,
  });
  expect(cleared.detail).toEqual({ reason: 'logout' });
  expect(await stateOf(idle)).toMatchObject({ verified: false });
  await expect(tabs.call(idle, 'listEntries', 0)).rejects.toMatchObject({ code: 'ERR_NOT_VERIFIED' });
});

// A call is answered this long after the update at most, besides its exchange's own (slowed) time.
const ANSWER_BOUND_MS = 5_000;
// Long enough for the new version to be fetched and installed while the exchange is on the wire.
const EXCHANGE_MS = 8_000;

test('R10/R4: a new version installs while the exchange is on the wire: the start is answered once, and the new version serves the session the old one stored', async ({
  tabs,
  worker,
  server,
  network,
}) => {
  // An exchange held 8 s on purpose, and the browser's own delay before it fetches the update.
  test.slow();
  const [caller, other] = await tabs.open(2, { as: 'alice' });
  network.slow(EXCHANGE_MS, 'POST /v1/authorization');
  const began = Date.now();
  let answeredAt: number | undefined;
  const starting = tabs.call(caller, 'startConversation').finally(() => (answeredAt = Date.now()));
  await expect.poll(() => server.count('POST /v1/authorization')).toBe(1);

  // Two versions at once: the new one is installed (its script run) before the old one answered.
  const updated = worker.update();
  // (The browser fetches the new script some seconds after it was asked to, while a call runs.)
  await expect
    .poll(
      () =>
        caller.evaluate(async () => {
          const registration = await navigator.serviceWorker.getRegistration();
          return Boolean(registration?.installing ?? registration?.waiting);
        }),
      { timeout: EXCHANGE_MS },
    )
    .toBe(true);
  expect(answeredAt).toBeUndefined();

  // The old version finishes its call (the browser activates the new one once it has none left).
  const { conversationId } = await starting;
  expect(answeredAt! - began).toBeLessThan(EXCHANGE_MS + ANSWER_BOUND_MS);
  // ... and once the old one has no call left, the new one takes over every tab.
  const tookOver = await Promise.race([
    updated.then(() => true),
    new Promise<false>((resolve) => setTimeout(() => resolve(false), ANSWER_BOUND_MS)),
  ]);
  expect(tookOver).toBe(true);
  network.heal();

  // The new version knows the session the old one stored: no second exchange, same conversation.
  const sent = await tabs.call(other, 'sendMessage', 'after the update');
  expect(sent.conversationId).toBe(conversationId);
  for (const tab of [caller, other])
    expect(await tabs.state(tab)).toMatchObject({ verified: true, conversationId });
  expect(await tabs.call(caller, 'startConversation')).toMatchObject({ conversationId });
  expect(server.count('POST /v1/authorization')).toBe(1);
  expect(server.count('POST /v1/conversations')).toBe(1);
});
