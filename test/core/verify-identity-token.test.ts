import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdentityTokenError } from '../../src/core/errors.ts';
import { precheckIdentityToken } from '../../src/core/inspect-identity-token.ts';
import { createIdentityTokenVerifier } from '../../src/core/verify-identity-token.ts';
import { createTestIdentityProvider } from '../../src/testing/index.ts';
import { ManualClock } from '../../src/testing/manual-clock.ts';
import { createBadTokenCorpus, type BadTokenCorpus } from '../fixtures/bad-token-corpus.ts';

let corpus: BadTokenCorpus;
beforeAll(async () => {
  corpus = await createBadTokenCorpus();
});

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'accepted';
  } catch (error) {
    expect(error).toBeInstanceOf(IdentityTokenError);
    return (error as IdentityTokenError).code;
  }
}

describe('createIdentityTokenVerifier', () => {
  it('R2: accepts a good RS256 token and returns its subject, issuer and expiry', async () => {
    const verifier = createIdentityTokenVerifier(corpus.verifierOptions);
    const token = await corpus.mintGood('alice', 120);
    const claims = await verifier.verify(token);
    expect(claims.sub).toBe('alice');
    expect(claims.iss).toBe(corpus.idp.issuer);
    expect(claims.exp).toBeGreaterThan(Date.now() / 1000);
  });

  it('R2: the bad-token corpus has at least 25 distinct cases', () => {
    expect(new Set(corpus.cases.map((c) => c.name)).size).toBe(corpus.cases.length);
    expect(corpus.cases.length).toBeGreaterThanOrEqual(25);
  });

  it('R2: refuses every case of the bad-token corpus with its exact code', async () => {
    const verifier = createIdentityTokenVerifier(corpus.verifierOptions);
    const outcomes = await Promise.all(
      corpus.cases.map(async (c) => ({ name: c.name, code: await codeOf(verifier.verify(c.token)) })),
    );
    expect(outcomes).toEqual(corpus.cases.map((c) => ({ name: c.name, code: c.code })));
  });

  it('R2: accepts RS512 only when it is configured', async () => {
    const idp = await createTestIdentityProvider({ algorithm: 'RS512' });
    const token = await idp.mint();
    const rs256Only = createIdentityTokenVerifier({ issuer: idp.issuer, jwks: idp.jwks });
    expect(await codeOf(rs256Only.verify(token))).toBe('ERR_TOKEN_ALGORITHM');
    const both = createIdentityTokenVerifier({
      issuer: idp.issuer,
      jwks: idp.jwks,
      algorithms: ['RS256', 'RS512'],
    });
    expect((await both.verify(token)).sub).toBe('test-user');
  });

  it('R2: refuses configuring any algorithm but RS256 and RS512', () => {
    expect(() =>
      createIdentityTokenVerifier({
        ...corpus.verifierOptions,
        algorithms: ['HS256' as 'RS256'],
      }),
    ).toThrow(TypeError);
  });

  it('R2: reads time from the injected clock and honours the clock tolerance', async () => {
    const clock = new ManualClock();
    const token = await corpus.mintGood('alice', 60);
    const strict = createIdentityTokenVerifier({ ...corpus.verifierOptions, clock });
    const lenient = createIdentityTokenVerifier({
      ...corpus.verifierOptions,
      clock,
      clockToleranceSeconds: 30,
    });
    await clock.advance(75_000);
    expect(await codeOf(strict.verify(token))).toBe('ERR_TOKEN_EXPIRED');
    expect((await lenient.verify(token)).sub).toBe('alice');
  });

  it('R10: allowExpired accepts an expired but otherwise valid token, and nothing else', async () => {
    const clock = new ManualClock();
    const verifier = createIdentityTokenVerifier({ ...corpus.verifierOptions, clock });
    const token = await corpus.mintGood('alice', 60);
    await clock.advance(3_600_000);
    expect((await verifier.verify(token, { allowExpired: true })).sub).toBe('alice');
    const tampered = corpus.cases.find((c) => c.name === 'a tampered signature');
    expect(await codeOf(verifier.verify(tampered?.token, { allowExpired: true }))).toBe(
      'ERR_TOKEN_SIGNATURE',
    );
  });
});

describe('createIdentityTokenVerifier with a JWKS URL', () => {
  let server: Server;
  let url: string;
  let fetches = 0;
  let keys: unknown;

  beforeAll(async () => {
    server = createServer((_req, res) => {
      fetches++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(keys));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('R2: fetches keys once and caches them; an unknown kid refetches at once, once per distinct kid', async () => {
    const first = await createTestIdentityProvider({ issuer: 'https://idp.remote.test', kid: 'k1' });
    const rotated = await createTestIdentityProvider({ issuer: 'https://idp.remote.test', kid: 'k2' });
    keys = first.jwks;
    fetches = 0;
    const verifier = createIdentityTokenVerifier({
      issuer: first.issuer,
      jwksUrl: url,
      jwksCooldownMs: 60_000,
    });
    await verifier.verify(await first.mint());
    await verifier.verify(await first.mint());
    expect(fetches).toBe(1);

    // The provider rotated its key (new key first): a token with the new kid is accepted at
    // once, though jose's cooldown would block a refetch for another minute.
    keys = { keys: [...rotated.jwks.keys, ...first.jwks.keys] };
    const fresh = await rotated.mint({ sub: 'bob' });
    const claims = await Promise.all(Array.from({ length: 20 }, () => verifier.verify(fresh)));
    expect(new Set(claims.map((c) => c.sub))).toEqual(new Set(['bob']));
    expect(fetches).toBe(2);
  });

  it('R2: a flood of made-up kids refetches at most once per distinct kid and a bounded number per minute', async () => {
    const idp = await createTestIdentityProvider({ issuer: 'https://idp.remote.test', kid: 'f1' });
    keys = idp.jwks;
    fetches = 0;
    const clock = new ManualClock(Date.now());
    const verifier = createIdentityTokenVerifier({
      issuer: idp.issuer,
      jwksUrl: url,
      clock,
      unknownKidRefetchesPerMinute: 5,
    });
    await verifier.verify(await idp.mint());
    expect(fetches).toBe(1);
    const stranger = async (kid: string) =>
      (await createTestIdentityProvider({ issuer: idp.issuer, kid })).mint();
    const made = await Promise.all(Array.from({ length: 12 }, (_, i) => stranger(`made-up-${i}`)));
    for (const token of [...made, ...made])
      expect(await codeOf(verifier.verify(token))).toBe('ERR_TOKEN_KEY_UNKNOWN');
    expect(fetches).toBe(1 + 5);
    // A minute later the budget is back: a kid not yet tried refetches once, and only once.
    await clock.advance(61_000);
    expect(await codeOf(verifier.verify(made[11]!))).toBe('ERR_TOKEN_KEY_UNKNOWN');
    expect(await codeOf(verifier.verify(made[11]!))).toBe('ERR_TOKEN_KEY_UNKNOWN');
    expect(fetches).toBe(1 + 5 + 1);
  });

  it('R2: a token of another issuer is a claim error naming iss, never a key error, and fetches nothing', async () => {
    const idp = await createTestIdentityProvider({ issuer: 'https://idp.remote.test', kid: 'i1' });
    const other = await createTestIdentityProvider({ issuer: 'https://idp.other.test', kid: 'o1' });
    keys = idp.jwks;
    fetches = 0;
    const verifier = createIdentityTokenVerifier({ issuer: idp.issuer, jwksUrl: url });
    await verifier.verify(await idp.mint());
    const error = await verifier.verify(await other.mint()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IdentityTokenError);
    expect((error as IdentityTokenError).code).toBe('ERR_TOKEN_CLAIM');
    expect((error as IdentityTokenError).message).toMatch(/"iss"/);
    expect(fetches).toBe(1);
  });

  it('R2: an unknown kid refetches once the cooldown has passed (key rotation)', async () => {
    const first = await createTestIdentityProvider({ issuer: 'https://idp.remote.test', kid: 'r1' });
    const rotated = await createTestIdentityProvider({ issuer: 'https://idp.remote.test', kid: 'r2' });
    keys = first.jwks;
    fetches = 0;
    const verifier = createIdentityTokenVerifier({ issuer: first.issuer, jwksUrl: url, jwksCooldownMs: 0 });
    await verifier.verify(await first.mint());
    keys = { keys: [...first.jwks.keys, ...rotated.jwks.keys] };
    expect((await verifier.verify(await rotated.mint({ sub: 'bob' }))).sub).toBe('bob');
    expect(fetches).toBe(2);
  });

  it('R10: prefetchKeys fetches the keys once ahead of need; the verification after it fetches nothing', async () => {
    const idp = await createTestIdentityProvider({ issuer: 'https://idp.remote.test', kid: 'p1' });
    keys = idp.jwks;
    fetches = 0;
    const verifier = createIdentityTokenVerifier({ issuer: idp.issuer, jwksUrl: url });
    await Promise.all([verifier.prefetchKeys(), verifier.prefetchKeys()]);
    expect(fetches).toBe(1);
    await verifier.prefetchKeys();
    expect((await verifier.verify(await idp.mint({ sub: 'carol' }))).sub).toBe('carol');
    expect(fetches).toBe(1);
  });

  it('R10: a failed prefetch neither rejects nor is a verdict; the verification reports ERR_KEYS_UNAVAILABLE', async () => {
    const idp = await createTestIdentityProvider({ issuer: 'https://idp.down.test' });
    const verifier = createIdentityTokenVerifier({
      issuer: idp.issuer,
      jwksUrl: 'http://127.0.0.1:9/jwks.json',
      jwksTimeoutMs: 2_000,
    });
    await expect(verifier.prefetchKeys()).resolves.toBeUndefined();
    expect(await codeOf(verifier.verify(await idp.mint()))).toBe('ERR_KEYS_UNAVAILABLE');
  });

  it('R2: an unreachable JWKS URL is ERR_KEYS_UNAVAILABLE, not a verdict on the token', async () => {
    const idp = await createTestIdentityProvider({ issuer: 'https://idp.down.test' });
    const verifier = createIdentityTokenVerifier({
      issuer: idp.issuer,
      jwksUrl: 'http://127.0.0.1:9/jwks.json',
      jwksTimeoutMs: 2_000,
    });
    expect(await codeOf(verifier.verify(await idp.mint()))).toBe('ERR_KEYS_UNAVAILABLE');
  });
});

describe("precheckIdentityToken (the seed facade's synchronous check)", () => {
  const now = () => Date.now();

  it('R2: accepts identityTokenType "JWT" in any case, trimmed', async () => {
    const identityToken = await corpus.mintGood();
    for (const identityTokenType of ['JWT', 'jwt', ' Jwt ', '\tJWT\n']) {
      expect(precheckIdentityToken({ identityTokenType, identityToken }, now()).ok).toBe(true);
    }
  });

  it('R2: refuses another type, a malformed or over-size token, and an exp already past', async () => {
    const good = await corpus.mintGood();
    const expired = corpus.cases.find((c) => c.name === 'expired')?.token;
    const oversize = corpus.cases.find((c) => c.name === 'a token over 16 KiB')?.token;
    const codeFor = (request: unknown) => {
      const check = precheckIdentityToken(request, now());
      return check.ok ? 'accepted' : check.error.code;
    };
    expect(codeFor({ identityTokenType: 'JWS', identityToken: good })).toBe('ERR_TOKEN_TYPE');
    expect(codeFor({ identityTokenType: 'OIDC', identityToken: good })).toBe('ERR_TOKEN_TYPE');
    expect(codeFor({ identityToken: good })).toBe('ERR_TOKEN_TYPE');
    expect(codeFor(undefined)).toBe('ERR_TOKEN_TYPE');
    expect(codeFor({ identityTokenType: 'JWT', identityToken: 'abc' })).toBe('ERR_TOKEN_MALFORMED');
    expect(codeFor({ identityTokenType: 'JWT', identityToken: oversize })).toBe('ERR_TOKEN_TOO_LARGE');
    expect(codeFor({ identityTokenType: 'JWT', identityToken: expired })).toBe('ERR_TOKEN_EXPIRED');
  });
});
