import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createIdentityTokenVerifier,
  type IdentityTokenVerifier,
} from '../../src/core/verify-identity-token.ts';
import {
  BAD_TOKEN_KINDS,
  startIdentityProvider,
  type BadTokenKind,
  type ServedIdentityProvider,
} from '../../src/testing/identity-provider-server.ts';

let idp: ServedIdentityProvider;
let verifier: IdentityTokenVerifier;
beforeAll(async () => {
  idp = await startIdentityProvider();
  verifier = createIdentityTokenVerifier({
    issuer: idp.issuer,
    jwksUrl: idp.jwksUrl,
    audience: idp.audience,
  });
});
afterAll(() => idp.close());

describe('startIdentityProvider', () => {
  it('serves its JWKS on 127.0.0.1 with CORS open, and mints tokens a verifier accepts', async () => {
    const answer = await fetch(idp.jwksUrl);
    expect(answer.headers.get('access-control-allow-origin')).toBe('*');
    expect(await answer.json()).toEqual(idp.jwks);
    expect(await verifier.verify(await idp.mint('alice'))).toMatchObject({ sub: 'alice', iss: idp.issuer });
  });

  const refusals: Record<Exclude<BadTokenKind, 'rotated-key'>, string> = {
    expired: 'ERR_TOKEN_EXPIRED',
    'not-yet-valid': 'ERR_TOKEN_NOT_YET_VALID',
    'foreign-key': 'ERR_TOKEN_SIGNATURE',
    'wrong-issuer': 'ERR_TOKEN_CLAIM',
    'wrong-audience': 'ERR_TOKEN_CLAIM',
    rs512: 'ERR_TOKEN_ALGORITHM',
  };
  for (const [kind, code] of Object.entries(refusals)) {
    it(`R2: a ${kind} token is refused with ${code}`, async () => {
      const token = await idp.mintBad(kind as BadTokenKind, 'mallory');
      await expect(verifier.verify(token)).rejects.toMatchObject({ code });
    });
  }

  it('R2: a token of a key rotated since the verifier fetched the keys is accepted after a refetch', async () => {
    // No cooldown: today's verifier refetches on an unknown kid only once its cooldown (default
    // 30 s) has passed since the last fetch, which R2 says it should not wait for.
    const verifier = createIdentityTokenVerifier({
      issuer: idp.issuer,
      jwksUrl: idp.jwksUrl,
      jwksCooldownMs: 0,
    });
    await verifier.verify(await idp.mint('alice'));
    const fetches = idp.jwksFetches;
    const rotated = await idp.mintBad('rotated-key', 'alice');
    expect(await verifier.verify(rotated)).toMatchObject({ sub: 'alice' });
    expect(idp.jwksFetches).toBe(fetches + 1);
    expect(idp.jwks.keys).toHaveLength(2);
  });

  it('names every kind it knows, and refuses an unknown one clearly', async () => {
    expect(BAD_TOKEN_KINDS).toHaveLength(7);
    await expect(idp.mintBad('nonsense' as BadTokenKind)).rejects.toThrow(/unknown kind nonsense/);
  });

  it('mints at the time of the clock it is given', async () => {
    const later = await startIdentityProvider({ clock: { now: () => Date.now() + 3_600_000 } });
    try {
      const [, payload] = (await later.mint('alice')).split('.');
      const { iat } = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as { iat: number };
      expect(iat).toBeGreaterThan(Date.now() / 1000 + 3_500);
    } finally {
      await later.close();
    }
  });
});
