// @vitest-environment jsdom
// createTestTabwarden in a DOM test environment (jsdom, where most app unit tests run): the same
// identity provider and manual clock as in Node, with the page client on jsdom's window and an
// app's own DOM reacting to its events. IndexedDB comes from fake-indexeddb (vitest.config.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { createTestTabwarden, type TestTabwarden } from '../../src/testing/create-test-tabwarden.ts';
import type { Tabwarden } from '../../src/page/tabwarden.ts';

let tw: TestTabwarden | undefined;
afterEach(async () => {
  await tw?.close();
  tw = undefined;
  document.body.replaceChildren();
});

/** Resolves with the next `type` event of `target`'s detail. */
function next<T = unknown>(target: EventTarget, type: string): Promise<T> {
  return new Promise((resolve) =>
    target.addEventListener(type, (event) => resolve((event as CustomEvent<T>).detail), { once: true }),
  );
}

/** A tiny app view: a sign-in banner driven by the client's events, as app code would write it. */
function mountBanner(client: Tabwarden): HTMLElement {
  const banner = document.createElement('p');
  banner.setAttribute('role', 'status');
  banner.textContent = client.state.verified ? 'signed in' : 'signed out';
  client.addEventListener('verified', (event) => {
    banner.textContent = `signed in as ${(event as CustomEvent<{ sub: string }>).detail.sub}`;
  });
  client.addEventListener('identity-token-expired', () => (banner.textContent = 'please sign in again'));
  client.addEventListener('session-cleared', () => (banner.textContent = 'signed out'));
  document.body.append(banner);
  return banner;
}

describe('createTestTabwarden in jsdom', () => {
  it('runs on jsdom’s window: the client’s events drive the DOM; R4: two tabs share one conversation, exchanged once', async () => {
    // jsdom's own window, not the stand-in createTestTabwarden gives Node.
    expect(navigator.userAgent).toContain('jsdom');
    tw = await createTestTabwarden({ tabs: 2 });
    const [first, second] = tw.tabs as [Tabwarden, Tabwarden];
    const banner = mountBanner(second);
    expect(banner.textContent).toBe('signed out');

    await first.setIdentityToken(await tw.identityProvider.mint('alice'));
    await second.setIdentityToken(await tw.identityProvider.mint('alice'));
    expect(document.querySelector('[role=status]')?.textContent).toBe('signed in as alice');
    const [a, b] = await Promise.all([first.startConversation(), second.startConversation()]);
    expect(a.conversationId).toBe(b.conversationId);
    expect(tw.server.exchangeCount()).toBe(1);

    const cleared = next<{ reason: string }>(second, 'session-cleared');
    await first.clearSession();
    expect(await cleared).toEqual({ reason: 'logout' });
    expect(banner.textContent).toBe('signed out');
  });

  it('R6: on the same manual clock both tokens expire without waiting; a token from another tab releases the send', async () => {
    tw = await createTestTabwarden({ tabs: 2 });
    const [first, second] = tw.tabs as [Tabwarden, Tabwarden];
    const banner = mountBanner(first);
    const token = await tw.identityProvider.mint('alice'); // 10 minutes
    for (const tab of tw.tabs) await tab.setIdentityToken(token);
    await first.startConversation();
    const started = Date.now();
    await tw.clock.advance(11 * 60_000); // past the identity token and the 60 s authorization token

    const expired = next<{ deadline: number }>(first, 'identity-token-expired');
    const sending = first.sendMessage('after expiry');
    expect((await expired).deadline).toBe(tw.clock.now() + 30_000);
    expect(banner.textContent).toBe('please sign in again');
    await second.setIdentityToken(await tw.identityProvider.mint('alice'));
    await expect(sending).resolves.toMatchObject({ text: 'after expiry' });
    expect(tw.server.exchangeCount()).toBe(2);
    // Eleven minutes of the test's time in well under one of real time.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('R2: a token of the identity provider’s bad kinds is refused with its code and changes nothing', async () => {
    tw = await createTestTabwarden({ tabs: 1 });
    const [tab] = tw.tabs as [Tabwarden];
    await tab.setIdentityToken(await tw.identityProvider.mint('alice'));
    const { conversationId } = await tab.startConversation();
    await expect(
      tab.setIdentityToken(await tw.identityProvider.mintBad('expired', 'alice')),
    ).rejects.toMatchObject({
      code: 'ERR_TOKEN_EXPIRED',
    });
    expect(tab.state).toMatchObject({ verified: true, conversationId });
  });
});
