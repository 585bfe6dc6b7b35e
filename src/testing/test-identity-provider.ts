import { base64url, exportJWK, generateKeyPair, type JSONWebKeySet } from 'jose';

/** What a minted token should say. Every claim can be overridden or left out to test refusals. */
export interface MintOptions {
  /** Default `'test-user'`. */
  sub?: string;
  /** Lifetime from now in seconds. Default 300. Negative gives a token that has already expired. */
  expiresInSeconds?: number;
  /** Extra or overriding claims; a claim set to `undefined` is removed. */
  claims?: Record<string, unknown>;
  /** Extra or overriding protected-header parameters. */
  header?: Record<string, unknown>;
  /** The "now" the token is minted at, in ms since the epoch. Default `Date.now()`. */
  now?: number;
}

/** An identity provider for tests: an RSA key, its JWKS, and a minting function. */
export interface TestIdentityProvider {
  issuer: string;
  /** The public keys, as an IdP's JWKS endpoint would serve them. */
  jwks: JSONWebKeySet;
  /** The key id in `jwks`. */
  kid: string;
  /** Mints an RS256 (or the provider's algorithm) identity token. */
  mint(options?: MintOptions): Promise<string>;
  /**
   * Signs any header and payload as a JWS compact token, with no checks at all, so tests can
   * build tokens a JWT library would refuse to make (a `crit` or `b64` header, odd claims).
   */
  signCompact(header: Record<string, unknown>, payload: Record<string, unknown>): Promise<string>;
}

/**
 * Creates a throw-away identity provider with a fresh 2048-bit RSA key.
 *
 * @example
 * ```ts
 * const idp = await createTestIdentityProvider({ issuer: 'https://idp.test' });
 * const token = await idp.mint({ sub: 'alice', expiresInSeconds: 60 });
 * const verifier = createIdentityTokenVerifier({ issuer: idp.issuer, jwks: idp.jwks });
 * ```
 */
export async function createTestIdentityProvider(
  options: { issuer?: string; kid?: string; algorithm?: 'RS256' | 'RS512' } = {},
): Promise<TestIdentityProvider> {
  const issuer = options.issuer ?? 'https://idp.tabwarden.test';
  const kid = options.kid ?? 'test-key-1';
  const algorithm = options.algorithm ?? 'RS256';
  const { publicKey, privateKey } = await generateKeyPair(algorithm, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: algorithm, use: 'sig' };
  const encode = (value: unknown) => base64url.encode(JSON.stringify(value));
  const signCompact = async (header: Record<string, unknown>, payload: Record<string, unknown>) => {
    const input = `${encode(header)}.${encode(payload)}`;
    const signature = await crypto.subtle.sign(
      'RSASSA-PKCS1-v1_5',
      privateKey,
      new TextEncoder().encode(input),
    );
    return `${input}.${base64url.encode(new Uint8Array(signature))}`;
  };
  return {
    issuer,
    kid,
    jwks: { keys: [jwk] },
    signCompact,
    async mint(mint = {}) {
      const nowSeconds = Math.floor((mint.now ?? Date.now()) / 1000);
      const payload: Record<string, unknown> = {
        iss: issuer,
        sub: mint.sub ?? 'test-user',
        iat: nowSeconds,
        exp: nowSeconds + (mint.expiresInSeconds ?? 300),
        ...mint.claims,
      };
      for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
      return signCompact({ alg: algorithm, typ: 'JWT', kid, ...mint.header }, payload);
    },
  };
}
