import { randomUUID } from 'node:crypto';
import {
  SignJWT,
  base64url,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  type CryptoKey,
  type JWK,
} from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apiPaths } from '../../src/core/server-api.ts';
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER } from '../../src/server/access-tokens.ts';
import { createHarness, exchange, request } from './helpers.ts';

let harness: Awaited<ReturnType<typeof createHarness>>;
beforeEach(async () => {
  harness = await createHarness();
});
afterEach(async () => {
  await harness.cleanup();
});

/** The stored signing keys, oldest first. */
async function storedKeys(database: string): Promise<Array<{ kid: string; jwk: JWK }>> {
  const store = await harness.openStore(database);
  try {
    const records = (await store.signingKeys()).reverse();
    return records.map((record) => ({ kid: record.kid, jwk: JSON.parse(record.privateJwk) as JWK }));
  } finally {
    await store.close();
  }
}

/** An access token as the server signs them, with any key and header. */
function signAccessToken(key: CryptoKey | Uint8Array, header: { alg: string; kid: string }, sub = 'alice') {
  return new SignJWT({ idp: harness.idp.issuer })
    .setProtectedHeader({ ...header, typ: 'at+jwt' })
    .setIssuer(ACCESS_TOKEN_ISSUER)
    .setAudience(ACCESS_TOKEN_AUDIENCE)
    .setSubject(sub)
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime('10 minutes')
    .sign(key);
}

/** A database as a version that signed ES256 left it: one EC P-256 key pair. */
async function databaseWithEs256Key(database: string) {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = randomUUID();
  const store = await harness.openStore(database);
  await store.addSigningKeyUnlessPresent(
    { kid, privateJwk: JSON.stringify(await exportJWK(privateKey)), createdAt: Date.now() },
    () => false,
  );
  await store.close();
  return { kid, privateKey };
}

describe('access token signing key', () => {
  it('signs HS256 with a 256-bit secret kept in the store, named by its kid, and kept across restarts', async () => {
    const database = await harness.newDatabase('hs256');
    const server = await harness.start({ database });
    const { accessToken } = await exchange(server, await harness.idp.mint({ sub: 'alice' }));
    const header = decodeProtectedHeader(accessToken);
    expect(header).toMatchObject({ alg: 'HS256', typ: 'at+jwt' });
    await server.close();

    const keys = await storedKeys(database);
    expect(keys).toHaveLength(1);
    expect(keys[0]?.kid).toBe(header.kid);
    expect(keys[0]?.jwk.kty).toBe('oct');
    expect(base64url.decode(keys[0]?.jwk.k ?? '').length).toBe(32);

    // A restart generates nothing new and signs with the same secret.
    const again = await harness.start({ database });
    const next = await exchange(again, await harness.idp.mint({ sub: 'alice' }));
    expect(decodeProtectedHeader(next.accessToken).kid).toBe(header.kid);
    expect((await request(again, 'POST', apiPaths.conversations, { accessToken })).status).toBe(201);
    expect(await storedKeys(database)).toHaveLength(1);
  });

  it('upgrading a database from the ES256 version: its unexpired tokens keep working, new tokens are HS256', async () => {
    const database = await harness.newDatabase('es256');
    const old = await databaseWithEs256Key(database);
    const oldToken = await signAccessToken(old.privateKey, { alg: 'ES256', kid: old.kid });

    const server = await harness.start({ database });
    const opened = await request(server, 'POST', apiPaths.conversations, { accessToken: oldToken });
    expect(opened.status).toBe(201);
    const { accessToken } = await exchange(server, await harness.idp.mint({ sub: 'alice' }));
    const header = decodeProtectedHeader(accessToken);
    expect(header.alg).toBe('HS256');
    expect(header.kid).not.toBe(old.kid);
    const resumed = await request(server, 'POST', apiPaths.conversations, { accessToken });
    expect(resumed.body).toEqual(opened.body);
    // Revocation by jti works for the old tokens too.
    expect(
      (await request(server, 'POST', '/v1/authorization/revoke', { accessToken: oldToken })).status,
    ).toBe(200);
    const revoked = await request(server, 'POST', apiPaths.conversations, { accessToken: oldToken });
    expect(revoked.body.code).toBe('ERR_ACCESS_TOKEN_REVOKED');
    await server.close();
    expect((await storedKeys(database)).map((key) => key.jwk.kty)).toEqual(['EC', 'oct']);
  });

  it('refuses a token whose algorithm is not its key’s: HS256 under the ES256 kid, ES256 under the HS256 kid', async () => {
    const database = await harness.newDatabase('confusion');
    const old = await databaseWithEs256Key(database);
    const server = await harness.start({ database });
    const { accessToken } = await exchange(server, await harness.idp.mint({ sub: 'alice' }));
    const ownKid = decodeProtectedHeader(accessToken).kid as string;
    const publicJwk = await exportJWK(old.privateKey);
    const { privateKey: otherEcKey } = await generateKeyPair('ES256');
    const cases: Array<[string, string]> = [
      // The classic confusion: the public key's bytes used as an HMAC secret.
      [
        'HS256 keyed with the ES256 public key, under its kid',
        await signAccessToken(base64url.decode(publicJwk.x ?? ''), { alg: 'HS256', kid: old.kid }),
      ],
      ['ES256 under the HS256 kid', await signAccessToken(otherEcKey, { alg: 'ES256', kid: ownKid })],
      [
        'HS256 with another secret under the HS256 kid',
        await signAccessToken(crypto.getRandomValues(new Uint8Array(32)), { alg: 'HS256', kid: ownKid }),
      ],
    ];
    for (const [name, token] of cases) {
      const { status, body } = await request(server, 'POST', apiPaths.conversations, { accessToken: token });
      expect({ name, status, code: body.code }).toEqual({
        name,
        status: 401,
        code: 'ERR_ACCESS_TOKEN_INVALID',
      });
    }
  });

  it('refuses to start on a stored HS256 secret shorter than 256 bits', async () => {
    const database = await harness.newDatabase('short');
    const store = await harness.openStore(database);
    const k = base64url.encode(crypto.getRandomValues(new Uint8Array(16)));
    await store.addSigningKeyUnlessPresent(
      { kid: 'short', privateJwk: JSON.stringify({ kty: 'oct', k }), createdAt: Date.now() },
      () => false,
    );
    await store.close();
    await expect(harness.start({ database })).rejects.toThrow(/shorter than 256 bits/);
  });
});
