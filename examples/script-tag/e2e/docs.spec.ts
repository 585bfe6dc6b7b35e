// docs/testing.md's six tests, word for word (npm test checks they stay the same), against this
// app through the kit's fixtures (e2e/test.ts).
import { test, expect } from './test.ts';

test('logout in one tab clears every tab', async ({ tabs }) => {
  const [first, second, third] = await tabs.open(3, { as: 'alice' });
  await tabs.call(second, 'clearSession');
  for (const tab of [first, second, third]) {
    await expect(tab).toHaveDispatched('tabwarden:session-cleared', { detail: { reason: 'logout' } });
    await expect(tab).toHaveDispatched('onEmbeddedMessagingReady', { times: 2 });
    expect(await tabs.state(tab)).toMatchObject({ verified: false });
  }
});

test('after expiry, a token from another tab releases every waiting tab', async ({ tabs, clock }) => {
  const [first, second, third] = await tabs.open(3, { as: 'alice' });
  await tabs.call(first, 'startConversation');
  await clock.fastForward('10:01'); // the identity token (10 min) and the authorization token (1 min) expire
  const sending = tabs.call(first, 'sendMessage', 'still there?');
  const reading = tabs.call(third, 'listEntries');
  await expect(second).toHaveDispatched('onEmbeddedMessagingIdentityTokenExpired', { times: 1 });
  await tabs.signIn(second, 'alice');
  await expect(sending).resolves.toMatchObject({ text: 'still there?' });
  await expect(reading).resolves.toEqual(expect.any(Array));
});

test('a user switch leaves nothing of the previous user', async ({ tabs }) => {
  const [first, second] = await tabs.open(2, { as: 'alice' });
  await tabs.call(first, 'startConversation');
  await tabs.call(first, 'sendMessage', 'alice was here');
  await tabs.signIn(second, 'bob');
  await expect(first).toHaveDispatched('tabwarden:session-cleared', { detail: { reason: 'user-switch' } });
  await tabs.call(second, 'startConversation');
  const texts = (await tabs.call(second, 'listEntries')).map((entry) => entry.text);
  expect(texts).not.toContain('alice was here');
});

test('a send survives the worker being stopped under it', async ({ tabs, worker, server }) => {
  const [tab] = await tabs.open(1, { as: 'alice' });
  await tabs.call(tab, 'startConversation');
  server.slow('POST /v1/conversations/:id/messages', 1_000);
  const sending = tabs.call(tab, 'sendMessage', 'mid-call');
  await expect.poll(() => server.count('POST /v1/conversations/:id/messages')).toBe(1);
  await worker.stop();
  await expect(sending).resolves.toMatchObject({ text: 'mid-call' });
  const texts = (await tabs.call(tab, 'listEntries')).map((entry) => entry.text);
  expect(texts.filter((text) => text === 'mid-call')).toHaveLength(1);
});

test('history stays readable offline; a send works after reconnecting', async ({ tabs, network }) => {
  const [tab] = await tabs.open(1, { as: 'alice' });
  await tabs.call(tab, 'startConversation');
  await tabs.call(tab, 'sendMessage', 'written online');
  await network.offline();
  const offline = await tabs.call(tab, 'listEntries');
  expect(offline.map((entry) => entry.text)).toContain('written online');
  await network.online();
  expect(await tabs.call(tab, 'sendMessage', 'back online')).toMatchObject({ text: 'back online' });
});

test('a rejected token changes nothing', async ({ tabs, identityProvider }) => {
  const [first, second] = await tabs.open(2, { as: 'alice' });
  const { conversationId } = await tabs.call(first, 'startConversation');
  const forged = await identityProvider.mintBad('foreign-key', 'mallory');
  await expect(tabs.signIn(second, forged)).rejects.toMatchObject({ code: 'ERR_TOKEN_SIGNATURE' });
  for (const tab of [first, second]) {
    expect(await tabs.state(tab)).toMatchObject({ verified: true, conversationId });
  }
});
