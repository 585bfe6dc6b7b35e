// R4 and R5 in real Chromium, once per transport: one exchange however many tabs start the
// session at once, and a silent renewal when the authorization token has expired. Requests are
// counted by the reference server as they arrive (its onRequest option), so those a worker makes
// are counted too.
import { eventsOf, waitForEvent } from '../../src/testing/index.ts';
import {
  eventsNamed,
  readDatabase,
  signIn,
  stateOf,
  value,
  waitUntilPast,
  type ConversationEntry,
} from './app-driver.ts';
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

test.describe('R5', () => {
  test.use({ serverOptions: { accessTokenLifetimeSeconds: 2 } });

  test('R5: 2 s authorization lifetime, long identity token: a message after it expired goes through with one silent renewal and no event', async ({
    app,
  }) => {
    const tabs = await app.open(2);
    const token = await app.mint('alice', 600);
    for (const tab of tabs) await signIn(tab, token);
    const { conversationId } = await value<{ conversationId: string }>(tabs[0]!, 'startConversation');
    await value(tabs[0]!, 'sendMessage', 'while the authorization token is fresh');
    expect(app.server.exchangeCount()).toBe(1);

    // Wait until the server itself refuses the stored authorization token as expired (and the
    // tabs' clock, which is the workers' clock, is past its expiry).
    const stored = await readDatabase(tabs[0]!);
    const { accessToken, accessTokenExpiresAt } = stored!.session[0]!;
    expect(accessTokenExpiresAt - Date.now()).toBeLessThanOrEqual(2_000);
    await expect
      .poll(
        async () => {
          const response = await fetch(
            `${app.server.url}/v1/conversations/${conversationId}/entries?after=0`,
            {
              headers: { authorization: `Bearer ${accessToken}` },
            },
          );
          return response.status === 401
            ? ((await response.json()) as { code: string }).code
            : response.status;
        },
        { timeout: 5_000, intervals: [100] },
      )
      .toBe('ERR_ACCESS_TOKEN_EXPIRED');
    await waitUntilPast(tabs[0]!, accessTokenExpiresAt / 1000);

    // Both tabs send at once: one renewal between them (single flight), both messages land.
    const sent = await Promise.all(
      tabs.map((tab, i) => value<ConversationEntry>(tab, 'sendMessage', `after expiry from tab ${i + 1}`)),
    );
    for (const entry of sent) expect(entry.conversationId).toBe(conversationId);
    expect(app.server.exchangeCount()).toBe(2);
    const texts = (await value<ConversationEntry[]>(tabs[1]!, 'listEntries', 0)).map((entry) => entry.text);
    expect(texts).toEqual(
      expect.arrayContaining([
        'while the authorization token is fresh',
        'after expiry from tab 1',
        'after expiry from tab 2',
      ]),
    );

    // Silent: no expiry event, nothing cleared, nothing refreshed, the same conversation.
    for (const tab of tabs) {
      expect(await eventsOf(tab, 'onEmbeddedMessagingIdentityTokenExpired')).toHaveLength(0);
      expect(await eventsOf(tab, 'tabwarden:session-cleared')).toHaveLength(0);
      expect(await eventsNamed(tab, 'app:identity-token-refreshed')).toHaveLength(0);
      expect(await stateOf(tab)).toMatchObject({ verified: true, conversationId });
    }
    const renewed = (await readDatabase(tabs[1]!))!.session[0]!;
    expect(renewed.accessToken).not.toBe(accessToken);
  });
});
