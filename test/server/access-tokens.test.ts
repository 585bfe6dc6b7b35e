import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
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
import { openServerStore } from '../../src/server/store.ts';
import { createHarness, exchange, request } from './helpers.ts';

let harness: Awaited<ReturnType<typeof createHarness>>;
beforeEach(async () => {
  harness = await createHarness();
});
afterEach(async () => {
  await harness.cleanup();
});

function storedKeys(file: string): Array<{ kid: string; jwk: JWK }> {
  const db = new Database(file, { readonly: true });
  try {
    const rows = db.prepare('SELECT kid, private_jwk FROM signing_keys ORDER BY created_at').all() as Array<{
      kid: string;
      private_jwk: string;
    }>;
    return rows.map((row) => ({ kid: row.kid, jwk: JSON.parse(row.private_jwk) as JWK }));
  } finally {
    db.close();
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
async function databaseWithEs256Key(file: string) {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = randomUUID();
  const store = openServerStore(file);
  store.addSigningKey({
    kid,
    privateJwk: JSON.stringify(await exportJWK(privateKey)),
    createdAt: Date.now(),
  });
  store.close();
  return { kid, privateKey };
}

describe('access token signing key', () => {
  it('signs HS256 with a 256-bit secret kept in the store, named by its kid, and kept across restarts', async () => {
    const database = join(harness.dir, 'hs256.sqlite');
    const server = await harness.start({ database });
    const { accessToken } = await exchange(server, await harness.idp.mint({ sub: 'alice' }));
    const header = decodeProtectedHeader(accessToken);
    expect(header).toMatchObject({ alg: 'HS256', typ: 'at+jwt' });
    await server.close();

    const keys = storedKeys(database);
    expect(keys).toHaveLength(1);
    expect(keys[0]?.kid).toBe(header.kid);
    expect(keys[0]?.jwk.kty).toBe('oct');
    expect(base64url.decode(keys[0]?.jwk.k ?? '').length).toBe(32);

    // A restart generates nothing new and signs with the same secret.
    const again = await harness.start({ database });
    const next = await exchange(again, await harness.idp.mint({ sub: 'alice' }));
    expect(decodeProtectedHeader(next.accessToken).kid).toBe(header.kid);
    expect((await request(again, 'POST', apiPaths.conversations, { accessToken })).status).toBe(201);
    expect(storedKeys(database)).toHaveLength(1);
  });

  it('upgrading a database from the ES256 version: its unexpired tokens keep working, new tokens are HS256', async () => {
    const database = join(harness.dir, 'es256.sqlite');
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
    expect(storedKeys(database).map((key) => key.jwk.kty)).toEqual(['EC', 'oct']);
  });

  it('refuses a token whose algorithm is not its key’s: HS256 under the ES256 kid, ES256 under the HS256 kid', async () => {
    const database = join(harness.dir, 'confusion.sqlite');
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
    const database = join(harness.dir, 'short.sqlite');
    const store = openServerStore(database);
    const k = base64url.encode(crypto.getRandomValues(new Uint8Array(16)));
    store.addSigningKey({
      kid: 'short',
      privateJwk: JSON.stringify({ kty: 'oct', k }),
      createdAt: Date.now(),
    });
    store.close();
    await expect(harness.start({ database })).rejects.toThrow(/shorter than 256 bits/);
  });
});
