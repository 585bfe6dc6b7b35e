import {
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  errors,
  jwtVerify,
  type FetchImplementation,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
} from 'jose';
import { systemClock, type Clock } from './clock.ts';
import { IdentityTokenError } from './errors.ts';
import {
  DEFAULT_MAX_TOKEN_BYTES,
  inspectIdentityToken,
  type IdentityTokenAlgorithm,
} from './inspect-identity-token.ts';

export type { IdentityTokenAlgorithm } from './inspect-identity-token.ts';

/** What the verifier needs to know; every field but the keys and the issuer has a default. */
export interface IdentityTokenVerifierOptions {
  /** The `iss` every token must carry, exactly. */
  issuer: string;
  /** Inline public keys. Give this or `jwksUrl`. */
  jwks?: JSONWebKeySet;
  /**
   * Where to fetch the public keys. Cached; a token with an unknown `kid` refetches them at once
   * (the provider rotated its key), once per distinct `kid` per minute and at most
   * `unknownKidRefetchesPerMinute` times a minute in all.
   */
  jwksUrl?: string;
  /** Accepted `aud` value(s); unchecked when absent. */
  audience?: string | string[];
  /** Default `['RS256']`. `RS512` is accepted only when listed here. */
  algorithms?: IdentityTokenAlgorithm[];
  /** Seconds of leeway for `exp` and `nbf`. Default 0. */
  clockToleranceSeconds?: number;
  /** Tokens longer than this many bytes are refused before any parsing. Default 16 KiB. */
  maxTokenBytes?: number;
  /** Minimum time between two JWKS refetches for tokens without a `kid`. Default 30 s. */
  jwksCooldownMs?: number;
  /** How many refetches unknown kids may cause in a minute, so made-up kids cannot hammer the URL. Default 10. */
  unknownKidRefetchesPerMinute?: number;
  /** Time limit of one JWKS fetch. Default 5 s. */
  jwksTimeoutMs?: number;
  /** Default: the runtime's clock. */
  clock?: Clock;
  /** Default: the runtime's `fetch`. */
  fetch?: FetchImplementation;
}

/** The claims tabwarden relies on, from a token whose signature and claims were checked. */
export interface VerifiedIdentity {
  sub: string;
  iss: string;
  /** Expiry in seconds since the epoch, as in the token. */
  exp: number;
  /** Not-before in seconds since the epoch, when the token has one. */
  nbf?: number;
}

/** Options of one verification. */
export interface VerifyOptions {
  /**
   * Accept a token whose `exp` has passed (everything else is still checked). Only for a tab
   * that rejoins a restored session after a worker restart (R10): its in-memory token may have
   * expired meanwhile, and the grace window (R6) decides what happens next.
   */
  allowExpired?: boolean;
}

/** Checks identity tokens (R2). */
export interface IdentityTokenVerifier {
  /** Resolves the verified claims, or rejects with an {@link IdentityTokenError}. Never throws anything else. */
  verify(token: unknown, options?: VerifyOptions): Promise<VerifiedIdentity>;
  /**
   * Fetches the keys now unless they are fresh, and imports them, so a verification soon after
   * only verifies (a restarted worker is about to verify every tab's token, R10). Never rejects.
   */
  prefetchKeys(): Promise<void>;
}

/** Maps jose's verification errors onto tabwarden's codes. */
function mapJoseError(error: unknown): IdentityTokenError {
  if (error instanceof IdentityTokenError) return error;
  if (error instanceof errors.JWTExpired) {
    return new IdentityTokenError('ERR_TOKEN_EXPIRED', 'The identity token has expired', { cause: error });
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf' && error.reason === 'check_failed') {
      return new IdentityTokenError('ERR_TOKEN_NOT_YET_VALID', 'The identity token is not valid yet', {
        cause: error,
      });
    }
    return new IdentityTokenError('ERR_TOKEN_CLAIM', `Claim "${error.claim}" is invalid: ${error.message}`, {
      cause: error,
    });
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new IdentityTokenError('ERR_TOKEN_SIGNATURE', 'The identity token signature is invalid', {
      cause: error,
    });
  }
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    return new IdentityTokenError('ERR_TOKEN_KEY_UNKNOWN', 'No known key matches the identity token', {
      cause: error,
    });
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return new IdentityTokenError('ERR_TOKEN_ALGORITHM', 'The identity token algorithm is not accepted', {
      cause: error,
    });
  }
  if (error instanceof errors.JOSENotSupported) {
    return new IdentityTokenError('ERR_TOKEN_HEADER', 'The identity token uses an unsupported feature', {
      cause: error,
    });
  }
  if (error instanceof errors.JWTInvalid) {
    return new IdentityTokenError(
      'ERR_TOKEN_CLAIM',
      `The identity token claims are invalid: ${error.message}`,
      {
        cause: error,
      },
    );
  }
  return new IdentityTokenError('ERR_TOKEN_MALFORMED', 'The identity token could not be verified', {
    cause: error,
  });
}

const MINUTE_MS = 60_000;

/**
 * Decides whether a token's unknown `kid` may refetch the keys now, although jose's cooldown
 * says no: once per distinct kid per minute, and at most `perMinute` kids per minute in all.
 * Callers asking for the same kid meanwhile share the refetch already under way.
 */
function createUnknownKidBudget(clock: Clock, perMinute: number) {
  const refetched = new Map<string, { at: number; done: Promise<void> }>();
  return (kid: string, reload: () => Promise<void>): Promise<void> | undefined => {
    const now = clock.now();
    for (const [seen, { at }] of refetched) if (now - at >= MINUTE_MS) refetched.delete(seen);
    const earlier = refetched.get(kid);
    if (earlier) return earlier.done;
    if (refetched.size >= perMinute) return undefined;
    const done = reload().catch(() => undefined);
    refetched.set(kid, { at: now, done });
    return done;
  };
}

/** Marks a failure to get keys at all, as opposed to a token no key matches. */
class KeysUnavailable extends Error {}

/** The verifier's keys: a getter for jose, and a way to have them ready ahead of need. */
interface Keys {
  getKey: JWTVerifyGetKey;
  prefetch(): Promise<void>;
}

// What a key lookup ahead of any token passes jose as the token: no header beyond the protected one.
const NO_TOKEN = { payload: '', signature: '' };

/**
 * Imports every key of `jwks` for each of `algorithms` through `getKey` (jose caches imported
 * keys), so that the first verification only verifies. Keys that match nothing are skipped.
 */
async function importAhead(
  getKey: JWTVerifyGetKey,
  jwks: JSONWebKeySet | undefined,
  algorithms: readonly string[],
): Promise<void> {
  // Only pairs that can match: a lookup that matches nothing would make a remote set refetch.
  const usable = (jwks?.keys ?? []).filter((jwk) => jwk.kty === 'RSA' && (jwk.use ?? 'sig') === 'sig');
  const imports = usable.flatMap((jwk) =>
    algorithms
      .filter((alg) => jwk.alg === undefined || jwk.alg === alg)
      .map(async (alg) => getKey({ alg, ...(jwk.kid ? { kid: jwk.kid } : {}) }, NO_TOKEN)),
  );
  await Promise.allSettled(imports);
}

function createKeys(
  options: IdentityTokenVerifierOptions,
  algorithms: readonly string[],
  clock: Clock,
): Keys {
  if (options.jwks && options.jwksUrl) throw new TypeError('Give either jwks or jwksUrl, not both');
  if (options.jwks) {
    const local = createLocalJWKSet(options.jwks);
    return { getKey: local, prefetch: () => importAhead(local, local.jwks(), algorithms) };
  }
  if (!options.jwksUrl) throw new TypeError('Give jwks or jwksUrl');
  const remote = createRemoteJWKSet(new URL(options.jwksUrl), {
    cooldownDuration: options.jwksCooldownMs ?? 30_000,
    timeoutDuration: options.jwksTimeoutMs ?? 5_000,
    ...(options.fetch ? { [customFetch]: options.fetch } : {}),
  });
  // A failed prefetch is no verdict: the next verification fetches again and reports it.
  const prefetch = async () => {
    if (!remote.fresh) await remote.reload().catch(() => undefined);
    if (remote.fresh) await importAhead(remote, remote.jwks(), algorithms);
  };
  const refetchFor = createUnknownKidBudget(clock, options.unknownKidRefetchesPerMinute ?? 10);
  // jose refetches on an unknown kid only outside its cooldown: a key rotated within 30 s of
  // the last fetch (every worker start fetches) would be refused until then (R2).
  const lookUp: JWTVerifyGetKey = async (header, token) => {
    try {
      return await remote(header, token);
    } catch (error) {
      const refetch =
        error instanceof errors.JWKSNoMatchingKey && typeof header.kid === 'string' && remote.coolingDown
          ? refetchFor(header.kid, () => remote.reload())
          : undefined;
      if (!refetch) throw error;
      await refetch;
      return await remote(header, token);
    }
  };
  const getKey: JWTVerifyGetKey = async (header, token) => {
    try {
      return await lookUp(header, token);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
        throw error;
      }
      throw new KeysUnavailable('The identity provider keys could not be fetched', { cause: error });
    }
  };
  return { getKey, prefetch };
}

/**
 * Creates the identity-token verifier (R2): RS256 only unless RS512 is configured, keys from an
 * inline JWKS or a JWKS URL, `exp` and `sub` required, `nbf` honoured, `iss` exact, `aud` when
 * configured. Header parameters that pick their own key (`jku`, `x5u`, `jwk`, `x5c`) or demand
 * extensions (`crit`) are refused.
 *
 * @example
 * ```ts
 * const verifier = createIdentityTokenVerifier({
 *   issuer: 'https://idp.example.com',
 *   jwksUrl: 'https://idp.example.com/.well-known/jwks.json',
 * });
 * const { sub, exp } = await verifier.verify(token); // or throws IdentityTokenError
 * ```
 */
export function createIdentityTokenVerifier(options: IdentityTokenVerifierOptions): IdentityTokenVerifier {
  const algorithms = options.algorithms ?? ['RS256'];
  for (const alg of algorithms) {
    if (alg !== 'RS256' && alg !== 'RS512') throw new TypeError(`Unsupported algorithm ${String(alg)}`);
  }
  const clock = options.clock ?? systemClock;
  const maxTokenBytes = options.maxTokenBytes ?? DEFAULT_MAX_TOKEN_BYTES;
  const { getKey, prefetch } = createKeys(options, algorithms, clock);

  return {
    prefetchKeys: prefetch,
    async verify(token, verifyOptions = {}) {
      const { payload } = inspectIdentityToken(token, maxTokenBytes, algorithms);
      // Before any key lookup: another issuer's token would otherwise read as an unknown key
      // (and make the keys refetch), and an app could not tell it from a rotation.
      if (payload.iss !== options.issuer) {
        throw new IdentityTokenError('ERR_TOKEN_CLAIM', 'Claim "iss" is not the configured issuer');
      }
      let now = clock.now();
      if (verifyOptions.allowExpired && typeof payload.exp === 'number') {
        // Verify as of just before expiry; nbf and every other check still apply.
        now = Math.min(now, payload.exp * 1000 - 1);
      }
      try {
        const { payload: claims } = await jwtVerify(token as string, getKey, {
          algorithms,
          issuer: options.issuer,
          ...(options.audience === undefined ? {} : { audience: options.audience }),
          clockTolerance: options.clockToleranceSeconds ?? 0,
          currentDate: new Date(now),
          requiredClaims: ['exp', 'sub', 'iss'],
        });
        if (typeof claims.sub !== 'string' || claims.sub.trim() === '') {
          throw new IdentityTokenError('ERR_TOKEN_CLAIM', 'Claim "sub" must be a non-empty string');
        }
        return {
          sub: claims.sub,
          iss: claims.iss as string,
          exp: claims.exp as number,
          ...(claims.nbf === undefined ? {} : { nbf: claims.nbf }),
        };
      } catch (error) {
        if (error instanceof KeysUnavailable) {
          throw new IdentityTokenError('ERR_KEYS_UNAVAILABLE', error.message, { cause: error.cause });
        }
        throw mapJoseError(error);
      }
    },
  };
}
