import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/testing/index.ts';
import { createBadTokenCorpus } from '../fixtures/bad-token-corpus.ts';
import { createHarness, exchange, request } from './helpers.ts';

let harness: Awaited<ReturnType<typeof createHarness>>;
beforeEach(async () => {
  harness = await createHarness();
});
afterEach(async () => {
  await harness.cleanup();
});

describe('POST /v1/authorization', () => {
  it('R2/R4: exchanges a valid identity token for a server-signed access token with the default 3600 s lifetime', async () => {
    const clock = new ManualClock(Date.parse('2031-05-01T12:00:00Z'));
    const server = await harness.start({ clock });
    const identityToken = await harness.idp.mint({ sub: 'alice', now: clock.now() });
    const { status, body, headers } = await request(server, 'POST', '/v1/authorization', {
      body: { identityToken },
    });
    expect(status).toBe(200);
    expect(headers.get('cache-control')).toBe('no-store');
    expect(body.subject).toEqual({ iss: harness.idp.issuer, sub: 'alice' });
    expect(body.expiresAt).toBe(clock.now() + 3600 * 1000);
    expect(Object.keys(body).sort()).toEqual(['accessToken', 'expiresAt', 'subject']);
    // Signed by the server's own key (HS256), with a jti for revocation; not the identity token.
    expect(decodeProtectedHeader(body.accessToken).alg).toBe('HS256');
    const claims = decodeJwt(body.accessToken);
    expect(claims.sub).toBe('alice');
    expect(typeof claims.jti).toBe('string');
    expect(claims.exp).toBe(body.expiresAt / 1000);
    expect(body.accessToken).not.toBe(identityToken);
  });

  it('sets the access token lifetime from its option', async () => {
    const server = await harness.start({ accessTokenLifetimeSeconds: 90 });
    const before = Date.now();
    const { expiresAt } = await exchange(server, await harness.idp.mint({ sub: 'alice' }));
    expect(expiresAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 90_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 90_000);
  });

  it('R13: server verifies every identity token itself: each bad-token corpus case answers 401 with exactly its code', async () => {
    const corpus = await createBadTokenCorpus();
    const { issuer, jwks, audience } = corpus.verifierOptions;
    const server = await harness.start({ issuer, jwks, audience });
    expect(corpus.cases.length).toBeGreaterThan(20);
    for (const badCase of corpus.cases) {
      const { status, body } = await request(server, 'POST', '/v1/authorization', {
        body: { identityToken: badCase.token },
      });
      expect({ name: badCase.name, status, code: body.code }).toEqual({
        name: badCase.name,
        status: 401,
        code: badCase.code,
      });
      expect(typeof body.message).toBe('string');
    }
    // The same server still accepts the corpus' good token.
    const good = await exchange(server, await corpus.mintGood('alice'));
    expect(good.subject.sub).toBe('alice');
  });

  it('R13: fetches the identity provider keys from a JWKS URL, and answers 503 ERR_KEYS_UNAVAILABLE when it cannot', async () => {
    let jwksRequests = 0;
    const jwksServer: Server = createServer((_req, res) => {
      jwksRequests++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(harness.idp.jwks));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    const { port } = jwksServer.address() as AddressInfo;
    try {
      const server = await harness.start({ jwks: undefined, jwksUrl: `http://127.0.0.1:${port}/jwks.json` });
      await exchange(server, await harness.idp.mint({ sub: 'alice' }));
      expect(jwksRequests).toBe(1);
    } finally {
      await new Promise((resolve) => jwksServer.close(resolve));
    }
    const unreachable = await harness.start({
      jwks: undefined,
      jwksUrl: `http://127.0.0.1:${port}/jwks.json`,
    });
    const { status, body } = await request(unreachable, 'POST', '/v1/authorization', {
      body: { identityToken: await harness.idp.mint({ sub: 'alice' }) },
    });
    expect(status).toBe(503);
    expect(body.code).toBe('ERR_KEYS_UNAVAILABLE');
  });

  it('answers 400 ERR_INVALID_ARGUMENT when identityToken is missing', async () => {
    const server = await harness.start();
    const { status, body } = await request(server, 'POST', '/v1/authorization', { body: { token: 'x' } });
    expect(status).toBe(400);
    expect(body.code).toBe('ERR_INVALID_ARGUMENT');
  });
});

describe('access tokens', () => {
  it('an expired access token answers 401 ERR_ACCESS_TOKEN_EXPIRED', async () => {
    const clock = new ManualClock(Date.now());
    const server = await harness.start({ clock, accessTokenLifetimeSeconds: 600 });
    const { accessToken } = await exchange(
      server,
      await harness.idp.mint({ sub: 'alice', now: clock.now() }),
    );
    expect((await request(server, 'POST', '/v1/conversations', { accessToken })).status).toBe(201);
    await clock.advance(601_000);
    const { status, body, headers } = await request(server, 'POST', '/v1/conversations', { accessToken });
    expect(status).toBe(401);
    expect(body.code).toBe('ERR_ACCESS_TOKEN_EXPIRED');
    expect(headers.get('www-authenticate')).toContain('invalid_token');
  });

  it('R7: a revoked access token answers 401 ERR_ACCESS_TOKEN_REVOKED at once; other tokens of the subject keep working', async () => {
    const server = await harness.start();
    const first = await exchange(server, await harness.idp.mint({ sub: 'alice' }));
    const second = await exchange(server, await harness.idp.mint({ sub: 'alice' }));
    const opened = await request(server, 'POST', '/v1/conversations', { accessToken: first.accessToken });
    expect(opened.status).toBe(201);

    const revoked = await request(server, 'POST', '/v1/authorization/revoke', {
      accessToken: first.accessToken,
    });
    expect(revoked.status).toBe(200);
    const after = await request(server, 'POST', '/v1/conversations', { accessToken: first.accessToken });
    expect(after.status).toBe(401);
    expect(after.body.code).toBe('ERR_ACCESS_TOKEN_REVOKED');
    const entries = await request(server, 'GET', `/v1/conversations/${opened.body.conversationId}/entries`, {
      accessToken: first.accessToken,
    });
    expect(entries.status).toBe(401);

    expect(
      (await request(server, 'POST', '/v1/conversations', { accessToken: second.accessToken })).status,
    ).toBe(200);
    // Revoking is idempotent: a logout retried after a lost answer still succeeds.
    const again = await request(server, 'POST', '/v1/authorization/revoke', {
      accessToken: first.accessToken,
    });
    expect(again.status).toBe(200);
  });

  it('refuses missing, malformed and foreign access tokens with 401 ERR_ACCESS_TOKEN_INVALID', async () => {
    const server = await harness.start();
    const other = await harness.start({ database: await harness.newDatabase('other') });
    const identityToken = await harness.idp.mint({ sub: 'alice' });
    const foreign = (await exchange(other, identityToken)).accessToken;
    const own = (await exchange(server, identityToken)).accessToken;
    const [header, payload] = own.split('.');
    const cases: Array<[string, Record<string, string>]> = [
      ['no Authorization header', {}],
      ['a Basic credential', { authorization: 'Basic YWxpY2U6c2VjcmV0' }],
      ['Bearer without a token', { authorization: 'Bearer ' }],
      ['garbage', { authorization: 'Bearer not-a-jwt' }],
      ['the identity token itself', { authorization: `Bearer ${identityToken}` }],
      ['a token from another server key', { authorization: `Bearer ${foreign}` }],
      ['our token without its signature', { authorization: `Bearer ${header}.${payload}.` }],
      ['our token, re-labelled alg none', { authorization: `Bearer ${btoa('{"alg":"none"}')}.${payload}.` }],
    ];
    for (const [name, headers] of cases) {
      const { status, body } = await request(server, 'POST', '/v1/conversations', { headers });
      expect({ name, status, code: body.code }).toEqual({
        name,
        status: 401,
        code: 'ERR_ACCESS_TOKEN_INVALID',
      });
    }
    const revokeForeign = await request(server, 'POST', '/v1/authorization/revoke', { accessToken: foreign });
    expect(revokeForeign.status).toBe(401);
  });
});

describe('exchange rate limits', () => {
  it('limits exchanges per client address with 429 ERR_RATE_LIMITED and Retry-After, refilling over the minute', async () => {
    const clock = new ManualClock(Date.now());
    const server = await harness.start({ clock, exchangesPerAddressPerMinute: 3 });
    const token = await harness.idp.mint({ sub: 'alice', now: clock.now() });
    // Refused tokens count too: the limit is there to stop floods of junk.
    expect(
      (await request(server, 'POST', '/v1/authorization', { body: { identityToken: 'junk' } })).status,
    ).toBe(401);
    await exchange(server, token);
    await exchange(server, token);
    const limited = await request(server, 'POST', '/v1/authorization', { body: { identityToken: token } });
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe('ERR_RATE_LIMITED');
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(20);
    await clock.advance(retryAfter * 1000);
    await exchange(server, token);
  });

  it('limits exchanges per subject, leaving other subjects alone', async () => {
    const server = await harness.start({ exchangesPerSubjectPerMinute: 2 });
    await exchange(server, await harness.idp.mint({ sub: 'alice' }));
    await exchange(server, await harness.idp.mint({ sub: 'alice' }));
    const limited = await request(server, 'POST', '/v1/authorization', {
      body: { identityToken: await harness.idp.mint({ sub: 'alice' }) },
    });
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe('ERR_RATE_LIMITED');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    await exchange(server, await harness.idp.mint({ sub: 'bob' }));
  });
});
