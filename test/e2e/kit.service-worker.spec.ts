// The test kit's own fixtures (tabwarden/testing/playwright) in real Chromium, on the service
// worker (the one transport with versions): what each promises, against the fixture app.
import { expect, test } from './kit-app.ts';

test('kit: worker.update() makes a new service-worker version take over; worker.restart() a fresh instance; the session goes on', async ({
  tabs,
  worker,
}) => {
  const [first, second] = await tabs.open(2, { as: 'alice' });
  expect(await worker.transport()).toBe('service-worker');
  const { conversationId } = await tabs.call(first, 'startConversation');
  await worker.update();
  await expect(tabs.call(second, 'sendMessage', 'after the update')).resolves.toMatchObject({
    conversationId,
  });
  await worker.restart();
  await expect(tabs.call(first, 'sendMessage', 'after the restart')).resolves.toMatchObject({
    conversationId,
  });
});

test('kit: server.fail() answers a route with a status and a code that reach the page; network.cut() is a network error; heal() undoes both', async ({
  tabs,
  server,
  network,
}) => {
  const [tab] = await tabs.open(1, { as: 'alice' });
  await tabs.call(tab, 'startConversation');
  const send = 'POST /v1/conversations/:id/messages';
  server.fail(send, 409, 'ERR_CONVERSATION_ENDED');
  // The status and the code reach the page (R14 wants the code as the error's own code; today
  // the client reports ERR_SERVER naming it).
  await expect(tabs.call(tab, 'sendMessage', 'refused')).rejects.toThrow(/409 \(ERR_CONVERSATION_ENDED\)/);
  network.cut(send);
  // A network error leaves the message pending in the outbox (R12); it goes out once healed.
  await expect(tabs.call(tab, 'sendMessage', 'cut')).resolves.toMatchObject({ status: 'pending' });
  // (Chromium retries a request whose reused connection dropped, so it may arrive more than once.)
  expect(server.requests().filter((request) => request.fault === 'cut').length).toBeGreaterThanOrEqual(1);
  network.heal();
  await expect(tabs.call(tab, 'sendMessage', 'healed')).resolves.toMatchObject({ text: 'healed' });
});

test('kit: identityProvider.mintBad() makes each refusal the worker names by its code (R2)', async ({
  tabs,
  identityProvider,
}) => {
  const [tab] = await tabs.open(1);
  const refusals = {
    expired: 'ERR_TOKEN_EXPIRED',
    'not-yet-valid': 'ERR_TOKEN_NOT_YET_VALID',
    'foreign-key': 'ERR_TOKEN_SIGNATURE',
    'wrong-issuer': 'ERR_TOKEN_CLAIM',
    'wrong-audience': 'ERR_TOKEN_CLAIM',
    rs512: 'ERR_TOKEN_ALGORITHM',
  } as const;
  for (const [kind, code] of Object.entries(refusals)) {
    const token = await identityProvider.mintBad(kind as keyof typeof refusals, 'mallory');
    await expect(tabs.signIn(tab, token), kind).rejects.toMatchObject({ code });
  }
  expect(await tabs.state(tab)).toMatchObject({ verified: false });
});
