import { randomUUID } from 'node:crypto';
import {
  SignJWT,
  base64url,
  decodeJwt,
  errors,
  exportJWK,
  generateSecret,
  importJWK,
  jwtVerify,
  type CryptoKey,
  type JWK,
} from 'jose';
import type { Clock } from '../core/clock.ts';
import { TabwardenError } from '../core/errors.ts';
import type { Subject } from '../core/protocol.ts';
import type { ServerStore } from './store.ts';

/** `iss` and `aud` of the server's own tokens: they are only ever meant for this API. */
export const ACCESS_TOKEN_ISSUER = 'urn:tabwarden:server';
export const ACCESS_TOKEN_AUDIENCE = 'urn:tabwarden:api';
/**
 * The algorithm of new tokens. Only this server checks its tokens, so a shared secret does what a
 * key pair did at a fraction of the cost: an HMAC is ~3× cheaper than an ECDSA signature in
 * WebCrypto, and the secret is as protected as the private key was (both live in the store).
 */
const ALGORITHM = 'HS256';
/** 256 bits: the HS256 key size RFC 7518 §3.2 asks for. */
const SECRET_BYTES = 32;
// Tokens signed before HS256 (ES256, with a stored EC private key) stay valid until they expire.
type KeyAlgorithm = typeof ALGORITHM | 'ES256';
// A token of ours is a few hundred bytes; anything much larger is not ours and not worth parsing.
const MAX_ACCESS_TOKEN_LENGTH = 4096;

/** What a checked authorization token says. */
export interface AccessTokenClaims {
  /** The token's unique id, the key of its revocation record. */
  jti: string;
  /** The identity token's `iss` and `sub` it was exchanged for. */
  subject: Subject;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

/** A freshly issued authorization token. */
export interface IssuedAccessToken extends AccessTokenClaims {
  accessToken: string;
}

/** A stored key, imported once: WebCrypto keys, never re-imported per request. */
interface LoadedKey {
  kid: string;
  alg: KeyAlgorithm;
  /** HS256: the secret. ES256: the private key. */
  signingKey: CryptoKey;
  /** HS256: the secret. ES256: the public key. */
  verificationKey: CryptoKey;
}

/** Imports a stored key; refuses what this server would never have written. */
async function loadKey(kid: string, privateJwk: string): Promise<LoadedKey> {
  const jwk = JSON.parse(privateJwk) as JWK;
  if (jwk.kty === 'oct') {
    if (typeof jwk.k !== 'string' || base64url.decode(jwk.k).length < SECRET_BYTES) {
      throw new Error(`Signing key ${kid} is shorter than 256 bits`);
    }
    // jose's importJWK answers raw bytes for "oct", which jose would then import again on every
    // sign and verify; a CryptoKey is imported once, here.
    const key = await crypto.subtle.importKey(
      'jwk',
      { kty: 'oct', k: jwk.k },
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign', 'verify'],
    );
    return { kid, alg: ALGORITHM, signingKey: key, verificationKey: key };
  }
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') {
    const { d: _private, ...publicJwk } = jwk;
    return {
      kid,
      alg: 'ES256',
      signingKey: (await importJWK(jwk, 'ES256')) as CryptoKey,
      verificationKey: (await importJWK(publicJwk, 'ES256')) as CryptoKey,
    };
  }
  throw new Error(`Signing key ${kid} is of an unknown kind`);
}

/** Every stored key, imported, newest first. */
function loadKeys(store: ServerStore): Promise<LoadedKey[]> {
  return store.signingKeys().then((records) => Promise.all(records.map((r) => loadKey(r.kid, r.privateJwk))));
}

function invalid(message: string): TabwardenError {
  return new TabwardenError('ERR_ACCESS_TOKEN_INVALID', message);
}

/**
 * Issues and checks the server's authorization tokens: short HS256 JWTs with a `jti`, signed
 * with a 256-bit secret the server generates on first start and keeps in its store, so a restart
 * (or another instance on the same database) accepts tokens issued before. Only the server ever
 * checks them, so a shared secret is enough. The signature makes the check stateless; the one
 * lookup per request is the revocation record, so logout works at once. ES256 tokens signed by
 * the key pair of earlier versions are still accepted until they expire.
 *
 * @example
 * ```ts
 * const tokens = await AccessTokens.create({ store, clock: systemClock, lifetimeSeconds: 3600 });
 * const { accessToken, expiresAt } = await tokens.issue({ iss: 'https://idp', sub: 'alice' });
 * const claims = await tokens.verify(accessToken); // throws ERR_ACCESS_TOKEN_* when refused
 * ```
 */
export class AccessTokens {
  readonly #store: ServerStore;
  readonly #clock: Clock;
  #lifetimeSeconds: number;
  readonly #signing: LoadedKey;
  #keys: Map<string, LoadedKey>;
  /** When the keys were last reread for an unknown kid (ms); bounds rereads to one a second. */
  #reloadedAt = -Infinity;

  private constructor(options: {
    store: ServerStore;
    clock: Clock;
    lifetimeSeconds: number;
    signing: LoadedKey;
    keys: LoadedKey[];
  }) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#lifetimeSeconds = options.lifetimeSeconds;
    this.#signing = options.signing;
    this.#keys = new Map(options.keys.map((key) => [key.kid, key]));
  }

  /**
   * Loads (and imports, once) the keys from the store; generates the HS256 secret when there is
   * none yet, on a new database or one written by a version that signed with ES256.
   */
  static async create(options: { store: ServerStore; clock: Clock; lifetimeSeconds: number }) {
    let keys = await loadKeys(options.store);
    if (!keys.some((key) => key.alg === ALGORITHM)) {
      const secret = await generateSecret(ALGORITHM, { extractable: true });
      // Instances starting together on one database: the first secret stored is everyone's.
      await options.store.addSigningKeyUnlessPresent(
        {
          kid: randomUUID(),
          privateJwk: JSON.stringify(await exportJWK(secret)),
          createdAt: options.clock.now(),
        },
        (stored) => (JSON.parse(stored.privateJwk) as JWK).kty === 'oct',
      );
      keys = await loadKeys(options.store);
    }
    // Newest first: the newest HS256 secret signs.
    const signing = keys.find((key) => key.alg === ALGORITHM) as LoadedKey;
    return new AccessTokens({ ...options, signing, keys });
  }

  /** The lifetime of tokens issued from now on, in seconds. */
  get lifetimeSeconds(): number {
    return this.#lifetimeSeconds;
  }

  /** Changes the lifetime of tokens issued from now on (the demo portal's setting). */
  set lifetimeSeconds(seconds: number) {
    if (!Number.isInteger(seconds) || seconds < 1)
      throw new TypeError('lifetimeSeconds must be a positive integer');
    this.#lifetimeSeconds = seconds;
  }

  /** Signs a new token for `subject`, valid for the configured lifetime from now. */
  async issue(subject: Subject): Promise<IssuedAccessToken> {
    const nowSeconds = Math.floor(this.#clock.now() / 1000);
    const exp = nowSeconds + this.#lifetimeSeconds;
    const jti = randomUUID();
    const accessToken = await new SignJWT({ idp: subject.iss })
      .setProtectedHeader({ alg: ALGORITHM, typ: 'at+jwt', kid: this.#signing.kid })
      .setIssuer(ACCESS_TOKEN_ISSUER)
      .setAudience(ACCESS_TOKEN_AUDIENCE)
      .setSubject(subject.sub)
      .setJti(jti)
      .setIssuedAt(nowSeconds)
      .setExpirationTime(exp)
      .sign(this.#signing.signingKey);
    return { accessToken, jti, subject, expiresAt: exp * 1000 };
  }

  /**
   * Checks signature, issuer, audience, expiry and revocation. Rejects with a
   * {@link TabwardenError} coded `ERR_ACCESS_TOKEN_INVALID`, `_EXPIRED` or `_REVOKED`.
   * `allowExpired` and `allowRevoked` are for the revoke route only, which must stay idempotent.
   */
  async verify(
    token: string | undefined,
    options: { allowExpired?: boolean; allowRevoked?: boolean } = {},
  ): Promise<AccessTokenClaims> {
    if (!token) throw invalid('An authorization token is required (Authorization: Bearer <token>)');
    if (token.length > MAX_ACCESS_TOKEN_LENGTH) throw invalid('The authorization token is not one of ours');
    let now = this.#clock.now();
    if (options.allowExpired) {
      let exp: unknown;
      try {
        exp = decodeJwt(token).exp;
      } catch {
        throw invalid('The authorization token is malformed');
      }
      if (typeof exp === 'number') now = Math.min(now, exp * 1000 - 1);
    }
    let payload;
    try {
      ({ payload } = await jwtVerify(
        token,
        async (header) => {
          const kid = typeof header.kid === 'string' ? header.kid : undefined;
          // A kid unknown here may be a key another instance added since this one started.
          if (kid !== undefined && !this.#keys.has(kid)) await this.#reloadKeys();
          const key = kid === undefined ? undefined : this.#keys.get(kid);
          if (!key) throw invalid('The authorization token was not signed by this server');
          // Each key verifies its own algorithm only.
          if (header.alg !== key.alg) throw invalid('The authorization token is invalid');
          return key.verificationKey;
        },
        {
          algorithms: [ALGORITHM, 'ES256'],
          issuer: ACCESS_TOKEN_ISSUER,
          audience: ACCESS_TOKEN_AUDIENCE,
          typ: 'at+jwt',
          currentDate: new Date(now),
          requiredClaims: ['jti', 'sub', 'exp', 'idp'],
        },
      ));
    } catch (error) {
      if (error instanceof TabwardenError) throw error;
      if (error instanceof errors.JWTExpired) {
        throw new TabwardenError('ERR_ACCESS_TOKEN_EXPIRED', 'The authorization token has expired');
      }
      throw invalid('The authorization token is invalid');
    }
    const { jti, sub, idp, exp } = payload;
    if (
      typeof jti !== 'string' ||
      typeof sub !== 'string' ||
      typeof idp !== 'string' ||
      typeof exp !== 'number'
    ) {
      throw invalid('The authorization token claims are invalid');
    }
    if (!options.allowRevoked && (await this.#store.isRevoked(jti))) {
      throw new TabwardenError('ERR_ACCESS_TOKEN_REVOKED', 'The authorization token was revoked');
    }
    return { jti, subject: { iss: idp, sub }, expiresAt: exp * 1000 };
  }

  /** Records the revocation; every later {@link verify} of the token fails, on every instance. */
  async revoke(claims: AccessTokenClaims): Promise<void> {
    await this.#store.revoke(claims.jti, claims.expiresAt, this.#clock.now());
  }

  /** Rereads the stored keys, at most once a second: made-up kids cannot hammer the store. */
  async #reloadKeys(): Promise<void> {
    const now = this.#clock.now();
    if (now - this.#reloadedAt < 1000) return;
    this.#reloadedAt = now;
    const keys = await loadKeys(this.#store);
    this.#keys = new Map(keys.map((key) => [key.kid, key]));
  }
}
