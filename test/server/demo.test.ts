import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { decodeProtectedHeader } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEMO_ISSUER } from '../../src/server/index.ts';
import { DEMO_KEY_FILE } from '../../src/server/demo-identity-provider.ts';
import { createHarness, exchange, request } from './helpers.ts';

let harness: Awaited<ReturnType<typeof createHarness>>;
beforeEach(async () => {
  harness = await createHarness();
});
afterEach(async () => {
  await harness.cleanup();
});

/** Demo mode with the demo identity provider as the only keyset. */
const demoOptions = { demo: true, issuer: undefined, jwks: undefined } as const;

describe('demo identity provider', () => {
  it('its routes do not exist unless demo mode is on', async () => {
    const server = await harness.start();
    expect(server.demoIdentityProvider).toBeUndefined();
    const jwks = await request(server, 'GET', '/demo/idp/jwks.json');
    const token = await request(server, 'POST', '/demo/idp/token', { body: { sub: 'alice' } });
    expect([jwks.status, token.status]).toEqual([404, 404]);
    expect(token.body.code).toBe('ERR_NOT_FOUND');
  });

  it('R10: the demo keys are served cacheable (public, 5 minutes), as identity providers serve theirs', async () => {
    const server = await harness.start(demoOptions);
    const jwks = await request(server, 'GET', '/demo/idp/jwks.json');
    expect(jwks.status).toBe(200);
    expect(jwks.headers.get('cache-control')).toBe('public, max-age=300');
  });

  it('in demo mode mints RS256 identity tokens for a chosen subject and lifetime that the server exchanges', async () => {
    const server = await harness.start(demoOptions);
    expect(server.issuer).toBe(DEMO_ISSUER);
    const minted = await request(server, 'POST', '/demo/idp/token', {
      body: { sub: 'alice', expiresInSeconds: 600 },
    });
    expect(minted.status).toBe(200);
    expect(minted.headers.get('cache-control')).toBe('no-store');
    const { identityToken, expiresAt, issuer } = minted.body;
    expect(issuer).toBe(DEMO_ISSUER);
    expect(expiresAt).toBeGreaterThan(Date.now() + 590_000);
    const header = decodeProtectedHeader(identityToken);
    expect(header.alg).toBe('RS256');
    const { body: jwks } = await request(server, 'GET', '/demo/idp/jwks.json');
    expect(jwks.keys.map((k: { kid: string }) => k.kid)).toEqual([header.kid]);
    expect(jwks.keys[0].d).toBeUndefined(); // public parts only
    const { subject } = await exchange(server, identityToken);
    expect(subject).toEqual({ iss: DEMO_ISSUER, sub: 'alice' });
  });

  it('lets the portal choose the authorization token lifetime of later exchanges, only in demo mode', async () => {
    const normal = await harness.start();
    const refused = await request(normal, 'POST', '/demo/settings', {
      body: { accessTokenLifetimeSeconds: 5 },
    });
    expect(refused.status).toBe(404);
    const server = await harness.start(demoOptions);
    const set = await request(server, 'POST', '/demo/settings', { body: { accessTokenLifetimeSeconds: 5 } });
    expect(set.body).toEqual({ accessTokenLifetimeSeconds: 5 });
    expect((await request(server, 'GET', '/demo/settings')).body).toEqual({ accessTokenLifetimeSeconds: 5 });
    const { identityToken } = (await request(server, 'POST', '/demo/idp/token', { body: { sub: 'alice' } }))
      .body;
    const before = Date.now();
    const { expiresAt } = await exchange(server, identityToken);
    expect(expiresAt - before).toBeGreaterThan(3_000);
    expect(expiresAt - before).toBeLessThan(7_000);
    for (const bad of [0, -1, 1.5, '5', 10 ** 9]) {
      const answer = await request(server, 'POST', '/demo/settings', {
        body: { accessTokenLifetimeSeconds: bad },
      });
      expect(answer.status).toBe(400);
    }
  });

  it('can mint an expired token to try out expiry, which the exchange refuses', async () => {
    const server = await harness.start(demoOptions);
    const { body } = await request(server, 'POST', '/demo/idp/token', {
      body: { sub: 'alice', expiresInSeconds: -60 },
    });
    const refused = await request(server, 'POST', '/v1/authorization', {
      body: { identityToken: body.identityToken },
    });
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe('ERR_TOKEN_EXPIRED');
  });

  it('keeps its generated development key in the data folder (owner-only) across restarts', async () => {
    const first = await harness.start(demoOptions);
    const { body } = await request(first, 'POST', '/demo/idp/token', { body: { sub: 'alice' } });
    const jwksBefore = (await request(first, 'GET', '/demo/idp/jwks.json')).body;
    await first.close();
    const keyFile = join(harness.dir, DEMO_KEY_FILE);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(keyFile, 'utf8')).privateJwk.d).toEqual(expect.any(String));

    const second = await harness.start(demoOptions);
    expect((await request(second, 'GET', '/demo/idp/jwks.json')).body).toEqual(jwksBefore);
    await exchange(second, body.identityToken);
  });

  it('refuses a bad subject or lifetime with 400', async () => {
    const server = await harness.start(demoOptions);
    for (const body of [
      {},
      { sub: '' },
      { sub: 'x'.repeat(257) },
      { sub: 'a', expiresInSeconds: 1e9 },
      { sub: 'a', expiresInSeconds: '60' },
    ]) {
      const answer = await request(server, 'POST', '/demo/idp/token', { body });
      expect(answer.status).toBe(400);
      expect(answer.body.code).toBe('ERR_INVALID_ARGUMENT');
    }
  });

  it('adds the configured audience to the tokens it mints', async () => {
    const server = await harness.start({ ...demoOptions, audience: 'tabwarden-demo' });
    const { body } = await request(server, 'POST', '/demo/idp/token', { body: { sub: 'alice' } });
    await exchange(server, body.identityToken);
  });
});
