// createTestTabwarden: the real engine behind the real page API, in Node, on one manual clock.
// Each test is a rule a user's unit tests would lean on.
import { afterEach, describe, expect, it } from 'vitest';
import { createTestTabwarden, type TestTabwarden } from '../../src/testing/create-test-tabwarden.ts';

let tw: TestTabwarden | undefined;
afterEach(async () => {
  await tw?.close();
  tw = undefined;
});

/** Resolves with the next `type` event of `target`'s detail. */
function next<T = unknown>(target: EventTarget, type: string): Promise<T> {
  return new Promise((resolve) =>
    target.addEventListener(type, (event) => resolve((event as CustomEvent<T>).detail), { once: true }),
  );
}

describe('createTestTabwarden', () => {
  it('R3/R4: tabs verify with the identity provider’s tokens and share one conversation, exchanged once', async () => {
    tw = await createTestTabwarden({ tabs: 2 });
    const [first, second] = tw.tabs as [NonNullable<(typeof tw.tabs)[0]>, NonNullable<(typeof tw.tabs)[0]>];
    expect(await first.setIdentityToken(await tw.identityProvider.mint('alice'))).toMatchObject({
      sub: 'alice',
    });
    await second.setIdentityToken(await tw.identityProvider.mint('alice'));
    const [a, b] = await Promise.all([first.startConversation(), second.startConversation()]);
    expect(a.conversationId).toBe(b.conversationId);
    expect(tw.server.exchangeCount()).toBe(1);
    await first.sendMessage('hello');
    expect((await second.listEntries()).map((entry) => entry.text)).toContain('hello');
  });

  it('R12: a watching tab hears another tab’s message and the agent’s reply once each; a tab that does not watch hears nothing', async () => {
    tw = await createTestTabwarden({ tabs: 3 });
    const [watching, sender, idle] = tw.tabs as [
      NonNullable<(typeof tw.tabs)[0]>,
      NonNullable<(typeof tw.tabs)[0]>,
      NonNullable<(typeof tw.tabs)[0]>,
    ];
    const token = await tw.identityProvider.mint('alice');
    for (const tab of tw.tabs) await tab.setIdentityToken(token);
    await watching.startConversation();
    const heard: string[] = [];
    const idleHeard: unknown[] = [];
    watching.addEventListener('entries', (event) =>
      heard.push(...event.detail.entries.map((entry) => `${entry.role}: ${entry.text}`)),
    );
    idle.addEventListener('entries', (event) => idleHeard.push(event.detail));
    const stop = watching.watchEntries();
    const replied = new Promise<void>((resolve) =>
      watching.addEventListener('entries', (event) => {
        if (event.detail.entries.some((entry) => entry.role === 'agent')) resolve();
      }),
    );
    await sender.sendMessage('hello from the other tab');
    // The demo agent answers on the server's clock.
    for (let i = 0; i < 100 && !heard.some((line) => line.startsWith('agent:')); i++) {
      await tw.clock.advance(1_000);
      await Promise.race([replied, new Promise((resolve) => setImmediate(resolve))]);
    }
    expect(heard).toHaveLength(2);
    expect(heard[0]).toBe('user: hello from the other tab');
    expect(idleHeard).toEqual([]);
    expect(tw.server.server.openStreams).toBe(1);
    stop();
  });

  it('R7: a logout in one tab clears every tab', async () => {
    tw = await createTestTabwarden({ tabs: 2 });
    const [first, second] = tw.tabs as [NonNullable<(typeof tw.tabs)[0]>, NonNullable<(typeof tw.tabs)[0]>];
    const token = await tw.identityProvider.mint('alice');
    for (const tab of tw.tabs) await tab.setIdentityToken(token);
    const cleared = next<{ reason: string }>(second, 'session-cleared');
    await first.clearSession();
    expect(await cleared).toEqual({ reason: 'logout' });
    expect(second.state.verified).toBe(false);
  });

  it('R6: on the manual clock, both tokens expire; a new token from another tab releases the waiting send', async () => {
    tw = await createTestTabwarden({ tabs: 2 });
    const [first, second] = tw.tabs as [NonNullable<(typeof tw.tabs)[0]>, NonNullable<(typeof tw.tabs)[0]>];
    const token = await tw.identityProvider.mint('alice'); // 10 minutes
    for (const tab of tw.tabs) await tab.setIdentityToken(token);
    await first.startConversation();
    await tw.clock.advance(11 * 60_000); // past the identity token and the 60 s authorization token

    const expired = next<{ deadline: number }>(second, 'identity-token-expired');
    const sending = first.sendMessage('after expiry');
    expect((await expired).deadline).toBe(tw.clock.now() + 30_000);
    await second.setIdentityToken(await tw.identityProvider.mint('alice'));
    await expect(sending).resolves.toMatchObject({ text: 'after expiry' });
    expect(tw.server.exchangeCount()).toBe(2);
  });

  it('R6: when the grace window runs out on the manual clock, the waiting send fails and every tab is cleared', async () => {
    tw = await createTestTabwarden({ tabs: 2, graceMs: 5_000 });
    const [first, second] = tw.tabs as [NonNullable<(typeof tw.tabs)[0]>, NonNullable<(typeof tw.tabs)[0]>];
    const token = await tw.identityProvider.mint({ sub: 'alice', expiresInSeconds: 60 });
    for (const tab of tw.tabs) await tab.setIdentityToken(token);
    await first.startConversation();
    await tw.clock.advance(61_000);
    const expired = next(second, 'identity-token-expired');
    // Caught at once: it fails while the clock moves, before the assertion looks at it.
    const failure = first.sendMessage('never sent').then(
      () => 'sent',
      (error: unknown) => error,
    );
    await expired;
    const cleared = next<{ reason: string }>(second, 'session-cleared');
    await tw.clock.advance(5_000);
    expect(await failure).toMatchObject({ code: 'ERR_SESSION_CLEARED' });
    expect(await cleared).toEqual({ reason: 'identity-token-timeout' });
  });

  it('R2: a rejected token changes nothing', async () => {
    tw = await createTestTabwarden({ tabs: 2 });
    const [first, second] = tw.tabs as [NonNullable<(typeof tw.tabs)[0]>, NonNullable<(typeof tw.tabs)[0]>];
    await first.setIdentityToken(await tw.identityProvider.mint('alice'));
    const { conversationId } = await first.startConversation();
    await expect(
      second.setIdentityToken(await tw.identityProvider.mintBad('wrong-issuer', 'mallory')),
    ).rejects.toMatchObject({
      code: 'ERR_TOKEN_CLAIM',
    });
    expect(first.state).toMatchObject({ verified: true, conversationId });
    expect(second.state.verified).toBe(false);
  });
});
