// R4 in real Chromium, once per transport: one exchange however many tabs start the session at
// once. Requests are counted by the reference server as they arrive (its onRequest option), so
// those a worker makes are counted too. (R5, the silent renewal, is in renewal.spec.ts.)
import { eventsOf, waitForEvent } from '../../src/testing/index.ts';
import { readDatabase, signIn, stateOf, value } from './app-driver.ts';
import { expect, test } from './harness.ts';

test.describe('R4', () => {
  test('R4: five tabs start the session at once: exactly one POST /v1/authorization reaches the server', async ({
    app,
  }) => {
    const tabs = await app.open(5);
    const token = await app.mint('alice');
    for (const tab of tabs) await signIn(tab, token);
    // Presenting a token verifies it in the worker; it does not exchange it.
    expect(app.server.exchangeCount()).toBe(0);

    const started = await Promise.all(
      tabs.map((tab) =>
        value<{ conversationId: string; subject: { sub: string } }>(tab, 'startConversation'),
      ),
    );
    expect(app.server.exchangeCount()).toBe(1);
    expect(app.server.requestCount('POST', '/v1/conversations')).toBe(1);
    const conversationId = started[0]!.conversationId;
    for (const info of started) expect(info).toMatchObject({ conversationId, subject: { sub: 'alice' } });

    // Every tab heard of it, once, with the same conversation.
    for (const tab of tabs) {
      const event = await waitForEvent<{ conversationId: string }>(
        tab,
        'onEmbeddedMessagingConversationStarted',
      );
      expect(event.detail).toEqual({ conversationId });
      expect(await eventsOf(tab, 'onEmbeddedMessagingConversationStarted')).toHaveLength(1);
      expect(await stateOf(tab)).toMatchObject({ verified: true, conversationId });
    }
    // The session record is in IndexedDB (it survives worker restarts and reloads), without the
    // identity token.
    const stored = await readDatabase(tabs[0]!);
    expect(stored?.session).toEqual([
      expect.objectContaining({ conversationId, subject: expect.objectContaining({ sub: 'alice' }) }),
    ]);
    expect(JSON.stringify(stored)).not.toContain(token);

    // Starting again resumes: no second exchange.
    await value(tabs[4]!, 'startConversation');
    expect(app.server.exchangeCount()).toBe(1);
  });
});
