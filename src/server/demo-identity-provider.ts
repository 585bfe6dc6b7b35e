import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  SignJWT,
  exportJWK,
  generateKeyPair,
  importJWK,
  type CryptoKey,
  type JSONWebKeySet,
  type JWK,
} from 'jose';
import type { Clock } from '../core/clock.ts';

/** The `iss` of the demo identity provider's tokens. */
export const DEMO_ISSUER = 'urn:tabwarden:demo-identity-provider';
/** The file, under the data folder, that keeps the development key across restarts. */
export const DEMO_KEY_FILE = 'demo-identity-provider-key.json';
/** Longest lifetime a demo token may ask for, in seconds (a day). */
export const DEMO_MAX_LIFETIME_SECONDS = 86_400;

/** What to mint. */
export interface DemoMintOptions {
  sub: string;
  /** Default 300. Negative mints an already expired token, for trying out expiry. */
  expiresInSeconds?: number;
}

/**
 * The demo identity provider (demo mode only): an RS256 key generated on first start and kept
 * in the data folder (never committed: `data/` is ignored), its JWKS, and a minting function.
 * It stands in for the app's real login, so the demo portal can sign users in with any name.
 *
 * @example
 * ```ts
 * const idp = await DemoIdentityProvider.open({ dataDir: './data', clock: systemClock });
 * const { identityToken } = await idp.mint({ sub: 'alice', expiresInSeconds: 600 });
 * ```
 */
export class DemoIdentityProvider {
  readonly issuer = DEMO_ISSUER;
  readonly jwks: JSONWebKeySet;
  readonly #privateKey: CryptoKey;
  readonly #kid: string;
  readonly #clock: Clock;
  readonly #audience: string | undefined;

  private constructor(options: {
    jwks: JSONWebKeySet;
    privateKey: CryptoKey;
    kid: string;
    clock: Clock;
    audience: string | undefined;
  }) {
    this.jwks = options.jwks;
    this.#privateKey = options.privateKey;
    this.#kid = options.kid;
    this.#clock = options.clock;
    this.#audience = options.audience;
  }

  /** Loads the development key from `dataDir`, generating it on first use. */
  static async open(options: {
    dataDir: string;
    clock: Clock;
    audience?: string;
  }): Promise<DemoIdentityProvider> {
    const file = join(options.dataDir, DEMO_KEY_FILE);
    let stored: { kid: string; privateJwk: JWK } | undefined;
    try {
      stored = JSON.parse(readFileSync(file, 'utf8')) as { kid: string; privateJwk: JWK };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new Error(
          `The demo identity provider key in ${file} is unreadable; delete it to make a new one`,
          {
            cause: error,
          },
        );
      }
    }
    if (!stored) {
      const { privateKey } = await generateKeyPair('RS256', { extractable: true });
      stored = { kid: `demo-${randomUUID()}`, privateJwk: await exportJWK(privateKey) };
      mkdirSync(options.dataDir, { recursive: true });
      // Owner-only: it is a private key, if only a development one.
      writeFileSync(file, JSON.stringify(stored), { mode: 0o600 });
    }
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = stored.privateJwk;
    return new DemoIdentityProvider({
      jwks: { keys: [{ ...publicJwk, kid: stored.kid, alg: 'RS256', use: 'sig' }] },
      privateKey: (await importJWK(stored.privateJwk, 'RS256')) as CryptoKey,
      kid: stored.kid,
      clock: options.clock,
      audience: options.audience,
    });
  }

  /** Mints an RS256 identity token for `sub`. */
  async mint(options: DemoMintOptions): Promise<{ identityToken: string; expiresAt: number }> {
    const nowSeconds = Math.floor(this.#clock.now() / 1000);
    const exp = nowSeconds + (options.expiresInSeconds ?? 300);
    let jwt = new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: this.#kid })
      .setIssuer(this.issuer)
      .setSubject(options.sub)
      .setIssuedAt(nowSeconds)
      .setExpirationTime(exp);
    if (this.#audience !== undefined) jwt = jwt.setAudience(this.#audience);
    return { identityToken: await jwt.sign(this.#privateKey), expiresAt: exp * 1000 };
  }
}
