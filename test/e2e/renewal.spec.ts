// R5 in real Chromium, once per transport: when the authorization token has expired while a
// valid identity token is in memory, the worker renews it silently (one exchange for every tab)
// and the request goes through. On the kit's clock: the server's 60 s authorization token
// expires for the server and the worker alike without the test waiting for it.
import { eventsNamed, readDatabase } from './app-driver.ts';
import { expect, test } from './kit-app.ts';

test('R5: after the authorization token expired (identity token still valid), messages from two tabs go through with one silent renewal and no event', async ({
  tabs,
  server,
  clock,
}) => {
  const [first, second] = await tabs.open(2, { as: 'alice' });
  const { conversationId } = await tabs.call(first, 'startConversation');
  await tabs.call(first, 'sendMessage', 'while the authorization token is fresh');
  expect(server.count('POST /v1/authorization')).toBe(1);
  const { accessToken, accessTokenExpiresAt } = (await readDatabase(first))!.session[0]!;
  expect(accessTokenExpiresAt - clock.now()).toBeLessThanOrEqual(60_000);

  await clock.fastForward(61_000);
  // The server itself now refuses the stored authorization token as expired.
  const refused = await fetch(`${server.url}/v1/conversations/${conversationId}/entries?after=0`, {
    headers: { authorization: `Bearer ${accessToken}` },
  });
  expect(refused.status).toBe(401);
  expect(await refused.json()).toMatchObject({ code: 'ERR_ACCESS_TOKEN_EXPIRED' });

  // Both tabs send at once: one renewal between them (single flight), both messages land.
  const sent = await Promise.all(
    [first, second].map((tab, i) => tabs.call(tab, 'sendMessage', `after expiry from tab ${i + 1}`)),
  );
  for (const entry of sent) expect(entry.conversationId).toBe(conversationId);
  expect(server.count('POST /v1/authorization')).toBe(2);
  const texts = (await tabs.call(second, 'listEntries', 0)).map((entry) => entry.text);
  expect(texts).toEqual(
    expect.arrayContaining([
      'while the authorization token is fresh',
      'after expiry from tab 1',
      'after expiry from tab 2',
    ]),
  );

  // Silent: no expiry event, nothing cleared, nothing refreshed, the same conversation.
  for (const tab of [first, second]) {
    await expect(tab).not.toHaveDispatched('onEmbeddedMessagingIdentityTokenExpired', { timeout: 0 });
    await expect(tab).not.toHaveDispatched('tabwarden:session-cleared', { timeout: 0 });
    expect(await eventsNamed(tab, 'app:identity-token-refreshed')).toHaveLength(0);
    expect(await tabs.state(tab)).toMatchObject({ verified: true, conversationId });
  }
  expect((await readDatabase(second))!.session[0]!.accessToken).not.toBe(accessToken);
});
