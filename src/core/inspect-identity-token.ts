import { IdentityTokenError, type TokenErrorCode } from './errors.ts';

// The checks that need no keys, and so no jose: the page stub runs them synchronously for the
// seed's boolean `setIdentityToken` (R2) without shipping a JWT library, and the verifier runs
// them first because they are cheap.

/** Signature algorithms tabwarden can be configured to accept. Nothing else ever is. */
export type IdentityTokenAlgorithm = 'RS256' | 'RS512';

/** Default size cap of an identity token: 16 KiB. */
export const DEFAULT_MAX_TOKEN_BYTES = 16 * 1024;

const BASE64URL = /^[A-Za-z0-9_-]*$/;
// Header parameters that would let a token choose its own key or demand unknown processing.
const FORBIDDEN_HEADERS = ['jku', 'x5u', 'jwk', 'x5c', 'crit', 'b64'] as const;
// `fatal`, so invalid UTF-8 is an error rather than U+FFFD.
const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

function fail(code: TokenErrorCode, message: string, cause?: unknown): never {
  throw new IdentityTokenError(code, message, cause === undefined ? undefined : { cause });
}

function decodeBase64Url(segment: string): Uint8Array {
  const base64 = segment.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
  // A plain loop: Uint8Array.from with a mapping function is several times slower (the server
  // inspects every token it exchanges).
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Decodes one base64url JSON object segment, or fails with ERR_TOKEN_MALFORMED. */
function decodeSegment(segment: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(decodeBase64Url(segment)));
  } catch (cause) {
    fail('ERR_TOKEN_MALFORMED', `The token's ${what} is not base64url-encoded JSON`, cause);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail('ERR_TOKEN_MALFORMED', `The token's ${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/**
 * Checks what can be checked without keys: type, size (before any parsing), JWS compact shape,
 * header parameters and algorithm. Returns the decoded header and payload, unverified. Throws
 * {@link IdentityTokenError} and nothing else.
 */
export function inspectIdentityToken(
  token: unknown,
  maxTokenBytes = DEFAULT_MAX_TOKEN_BYTES,
  algorithms: readonly IdentityTokenAlgorithm[] = ['RS256'],
): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  if (typeof token !== 'string') fail('ERR_TOKEN_MALFORMED', 'The identity token must be a string');
  // Length in UTF-16 units bounds the UTF-8 size from below, so huge inputs stop before encoding.
  if (token.length > maxTokenBytes || utf8Encoder.encode(token).length > maxTokenBytes) {
    fail('ERR_TOKEN_TOO_LARGE', `The identity token is larger than ${maxTokenBytes} bytes`);
  }
  const parts = token.split('.');
  if (parts.length !== 3) {
    fail('ERR_TOKEN_MALFORMED', 'The identity token must have three dot-separated parts');
  }
  const [headerPart = '', payloadPart = '', signaturePart = ''] = parts;
  if (!headerPart || !payloadPart || !parts.every((part) => BASE64URL.test(part))) {
    fail('ERR_TOKEN_MALFORMED', 'The identity token is not in JWS compact form');
  }
  const header = decodeSegment(headerPart, 'header');
  for (const name of FORBIDDEN_HEADERS) {
    if (name in header) fail('ERR_TOKEN_HEADER', `The "${name}" header parameter is not accepted`);
  }
  if (!algorithms.includes(header.alg as IdentityTokenAlgorithm)) {
    fail(
      'ERR_TOKEN_ALGORITHM',
      `Algorithm ${JSON.stringify(header.alg)} is not accepted (allowed: ${algorithms.join(', ')})`,
    );
  }
  if (!signaturePart) fail('ERR_TOKEN_SIGNATURE', 'The identity token has no signature');
  const payload = decodeSegment(payloadPart, 'payload');
  return { header, payload };
}

/** The seed's `setIdentityToken` argument. */
export interface IdentityTokenRequest {
  identityTokenType: string;
  identityToken: string;
}

/**
 * The synchronous check behind the seed's boolean `setIdentityToken` (R2): the type must be
 * `JWT` (case-insensitive, trimmed), the token well-formed, within the size cap, with an
 * allowed algorithm and an `exp` not yet past at `nowMs`. Passing means "accepted for
 * verification"; the worker then checks the signature and the claims.
 *
 * @example
 * ```ts
 * const check = precheckIdentityToken({ identityTokenType: 'jwt', identityToken }, Date.now());
 * if (!check.ok) console.warn(check.error.code);
 * ```
 */
export function precheckIdentityToken(
  request: unknown,
  nowMs: number,
  options: { maxTokenBytes?: number; algorithms?: readonly IdentityTokenAlgorithm[] } = {},
): { ok: true; token: string } | { ok: false; error: IdentityTokenError } {
  try {
    const { identityTokenType, identityToken } = (request ?? {}) as Partial<IdentityTokenRequest>;
    if (typeof identityTokenType !== 'string' || identityTokenType.trim().toUpperCase() !== 'JWT') {
      fail('ERR_TOKEN_TYPE', 'identityTokenType must be "JWT"');
    }
    const { payload } = inspectIdentityToken(identityToken, options.maxTokenBytes, options.algorithms);
    if (typeof payload.exp !== 'number') fail('ERR_TOKEN_CLAIM', 'Claim "exp" must be a number');
    if (payload.exp * 1000 <= nowMs) fail('ERR_TOKEN_EXPIRED', 'The identity token has expired');
    return { ok: true, token: identityToken as string };
  } catch (error) {
    return { ok: false, error: error as IdentityTokenError };
  }
}
