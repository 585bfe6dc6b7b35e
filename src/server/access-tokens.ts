import { randomUUID } from 'node:crypto';
import {
  SignJWT,
  decodeJwt,
  errors,
  exportJWK,
  generateKeyPair,
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
const ALGORITHM = 'ES256';
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

interface KeyPair {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

function invalid(message: string): TabwardenError {
  return new TabwardenError('ERR_ACCESS_TOKEN_INVALID', message);
}

/**
 * Issues and checks the server's authorization tokens: short ES256 JWTs with a `jti`, signed by
 * a key the server generates on first start and keeps in its store, so a restart (or another
 * instance on the same database) accepts tokens issued before. The signature makes the check
 * stateless; the one lookup per request is the revocation record, so logout works at once.
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
  readonly #signing: KeyPair;
  readonly #keys: Map<string, KeyPair>;

  private constructor(options: {
    store: ServerStore;
    clock: Clock;
    lifetimeSeconds: number;
    keys: KeyPair[];
  }) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#lifetimeSeconds = options.lifetimeSeconds;
    this.#signing = options.keys[0] as KeyPair;
    this.#keys = new Map(options.keys.map((key) => [key.kid, key]));
  }

  /** Loads the signing keys from the store, generating the first one when there is none. */
  static async create(options: { store: ServerStore; clock: Clock; lifetimeSeconds: number }) {
    let records = options.store.signingKeys();
    if (records.length === 0) {
      const { privateKey } = await generateKeyPair(ALGORITHM, { extractable: true });
      const privateJwk = await exportJWK(privateKey);
      options.store.addSigningKey({
        kid: randomUUID(),
        privateJwk: JSON.stringify(privateJwk),
        createdAt: options.clock.now(),
      });
      records = options.store.signingKeys();
    }
    const keys = await Promise.all(
      records.map(async (record): Promise<KeyPair> => {
        const jwk = JSON.parse(record.privateJwk) as JWK;
        const { d: _private, ...publicJwk } = jwk;
        return {
          kid: record.kid,
          privateKey: (await importJWK(jwk, ALGORITHM)) as CryptoKey,
          publicKey: (await importJWK(publicJwk, ALGORITHM)) as CryptoKey,
        };
      }),
    );
    return new AccessTokens({ ...options, keys });
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
      .sign(this.#signing.privateKey);
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
        (header) => {
          const key = typeof header.kid === 'string' ? this.#keys.get(header.kid) : undefined;
          if (!key) throw invalid('The authorization token was not signed by this server');
          return key.publicKey;
        },
        {
          algorithms: [ALGORITHM],
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
    if (!options.allowRevoked && this.#store.isRevoked(jti)) {
      throw new TabwardenError('ERR_ACCESS_TOKEN_REVOKED', 'The authorization token was revoked');
    }
    return { jti, subject: { iss: idp, sub }, expiresAt: exp * 1000 };
  }

  /** Records the revocation; every later {@link verify} of the token fails. */
  revoke(claims: AccessTokenClaims): void {
    this.#store.revoke(claims.jti, claims.expiresAt, this.#clock.now());
  }
}
