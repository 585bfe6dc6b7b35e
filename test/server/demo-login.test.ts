// The demo app's cookie login (src/server/demo-login.ts): a random session id in an HttpOnly,
// SameSite=Strict cookie, mapped on the server to the user; identity tokens minted per request.
import { decodeJwt } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEMO_SESSION_COOKIE } from '../../src/server/demo-login.ts';
import { createHarness, exchange, request } from './helpers.ts';

let harness: Awaited<ReturnType<typeof createHarness>>;
beforeEach(async () => {
  harness = await createHarness();
});
afterEach(async () => {
  await harness.cleanup();
});

const demoOptions = { demo: true, issuer: undefined, jwks: undefined } as const;

/** `name=value` of the Set-Cookie header, for the next request's Cookie header. */
function cookieOf(headers: Headers): string {
  const setCookie = headers.get('set-cookie') ?? '';
  return setCookie.split(';')[0]!;
}

describe('demo login', () => {
  it('R3: signing in sets an HttpOnly, SameSite=Strict cookie with a random id, never a token', async () => {
    const server = await harness.start(demoOptions);
    const signIn = await request(server, 'POST', '/demo/session', {
      body: { sub: 'alice', identityTokenLifetimeSeconds: 600 },
    });
    expect(signIn.status).toBe(200);
    expect(signIn.body).toEqual({ sub: 'alice' });
    const setCookie = signIn.headers.get('set-cookie')!;
    expect(setCookie).toMatch(new RegExp(`^${DEMO_SESSION_COOKIE}=[\\w-]{43};`));
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    expect(setCookie).toContain('Path=/demo/session');
    // A session id: nothing of a JWT (three dot-separated parts) nor the user's name.
    expect(cookieOf(signIn.headers)).not.toContain('.');
    expect(cookieOf(signIn.headers)).not.toContain('alice');

    const again = await request(server, 'POST', '/demo/session', { body: { sub: 'alice' } });
    expect(cookieOf(again.headers)).not.toBe(cookieOf(signIn.headers));
  });

  it('R3: the cookie alone fetches a fresh identity token for the signed-in user, which the server exchanges', async () => {
    const server = await harness.start(demoOptions);
    const signIn = await request(server, 'POST', '/demo/session', {
      body: { sub: 'alice', identityTokenLifetimeSeconds: 600 },
    });
    const cookie = cookieOf(signIn.headers);
    const minted = await request(server, 'POST', '/demo/session/identity-token', { headers: { cookie } });
    expect(minted.status).toBe(200);
    expect(minted.headers.get('cache-control')).toBe('no-store');
    const claims = decodeJwt(minted.body.identityToken);
    expect(claims.sub).toBe('alice');
    expect(claims.exp! - claims.iat!).toBe(600);
    expect(minted.body.expiresAt).toBe(claims.exp! * 1000);
    expect((await exchange(server, minted.body.identityToken)).subject.sub).toBe('alice');
  });

  it('answers 401 ERR_NO_SESSION without a cookie, with a made-up one, and after sign-out', async () => {
    const server = await harness.start(demoOptions);
    const signIn = await request(server, 'POST', '/demo/session', { body: { sub: 'alice' } });
    const cookie = cookieOf(signIn.headers);
    const signOut = await request(server, 'DELETE', '/demo/session', { headers: { cookie } });
    expect(signOut.status).toBe(200);
    expect(signOut.headers.get('set-cookie')).toMatch(new RegExp(`^${DEMO_SESSION_COOKIE}=;.*Max-Age=0`));
    const attempts: Record<string, string>[] = [
      {},
      { cookie: `${DEMO_SESSION_COOKIE}=${'A'.repeat(43)}` },
      { cookie },
    ];
    for (const headers of attempts) {
      const refused = await request(server, 'POST', '/demo/session/identity-token', { headers });
      expect(refused.status).toBe(401);
      expect(refused.body).toEqual({ code: 'ERR_NO_SESSION', message: 'Not signed in to the demo app' });
    }
    // Idempotent.
    expect((await request(server, 'DELETE', '/demo/session', { headers: { cookie } })).status).toBe(200);
  });

  it('signing in again ends the previous session id (no fixation)', async () => {
    const server = await harness.start(demoOptions);
    const first = cookieOf(
      (await request(server, 'POST', '/demo/session', { body: { sub: 'alice' } })).headers,
    );
    const second = await request(server, 'POST', '/demo/session', {
      body: { sub: 'bob' },
      headers: { cookie: first },
    });
    const old = await request(server, 'POST', '/demo/session/identity-token', { headers: { cookie: first } });
    expect(old.status).toBe(401);
    const current = await request(server, 'POST', '/demo/session/identity-token', {
      headers: { cookie: cookieOf(second.headers) },
    });
    expect(decodeJwt(current.body.identityToken).sub).toBe('bob');
  });

  it('refuses a bad subject or lifetime with 400, and does not exist outside demo mode', async () => {
    const server = await harness.start(demoOptions);
    for (const body of [
      {},
      { sub: '' },
      { sub: 'x'.repeat(257) },
      { sub: 'a', identityTokenLifetimeSeconds: 1e9 },
      { sub: 'a', identityTokenLifetimeSeconds: '60' },
    ]) {
      const answer = await request(server, 'POST', '/demo/session', { body });
      expect(answer.status).toBe(400);
      expect(answer.body.code).toBe('ERR_INVALID_ARGUMENT');
      expect(answer.headers.get('set-cookie')).toBeNull();
    }
    const normal = await harness.start();
    expect((await request(normal, 'POST', '/demo/session', { body: { sub: 'alice' } })).status).toBe(404);
  });
});
