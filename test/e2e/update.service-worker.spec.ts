// R10 for a service worker's own lifecycle: a new version of the worker script takes over
// mid-session (skipWaiting + clients.claim) and restores everything from IndexedDB. Through the
// test kit: `worker.update()` publishes a byte-different script and waits until every tab is
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
