// R4 in real Chromium, once per transport: one exchange however many tabs start the session at
// once. Through the test kit (kit-app.ts): its `server` counts requests by route as they arrive at
// its front door, so those a worker makes are counted too. (R5, the silent renewal, is in
// renewal.spec.ts.)
import { readDatabase } from './app-driver.ts';
import { expect, test } from './kit-app.ts';

test.describe('R4', () => {
  test('R4: five tabs start the session at once: exactly one POST /v1/authorization reaches the server', async ({
    tabs,
    server,
    identityProvider,
    events,
  }) => {
    const open = await tabs.open(5);
    const token = await identityProvider.mint('alice');
    for (const tab of open) await tabs.signIn(tab, token);
    // Presenting a token verifies it in the worker; it does not exchange it.
    expect(server.count('POST /v1/authorization')).toBe(0);

    const started = await Promise.all(open.map((tab) => tabs.call(tab, 'startConversation')));
    expect(server.count('POST /v1/authorization')).toBe(1);
    expect(server.count('POST /v1/conversations')).toBe(1);
    const conversationId = started[0]!.conversationId;
    for (const info of started) expect(info).toMatchObject({ conversationId, subject: { sub: 'alice' } });

    // Every tab heard of it, once, with the same conversation.
    for (const tab of open) {
      const event = await events.wait<{ conversationId: string }>(
        tab,
        'onEmbeddedMessagingConversationStarted',
      );
      expect(event.detail).toEqual({ conversationId });
      await expect(tab).toHaveDispatched('onEmbeddedMessagingConversationStarted', { times: 1, timeout: 0 });
      expect(await tabs.state(tab)).toMatchObject({ verified: true, conversationId });
    }
    // The session record is in IndexedDB (it survives worker restarts and reloads), without the
    // identity token.
    const stored = await readDatabase(open[0]!);
    expect(stored?.session).toEqual([
      expect.objectContaining({ conversationId, subject: expect.objectContaining({ sub: 'alice' }) }),
    ]);
    expect(JSON.stringify(stored)).not.toContain(token);

    // Starting again resumes: no second exchange.
    await tabs.call(open[4]!, 'startConversation');
    expect(server.count('POST /v1/authorization')).toBe(1);
  });
});
