/**
 * Every error tabwarden raises, in one place. Each carries a stable `code` so callers can
 * `switch (err.code)` without parsing messages; `name` comes from the class and `cause` is kept.
 *
 * @example
 * ```ts
 * try {
 *   await client.setIdentityToken(token);
 * } catch (err) {
 *   if (isTabwardenError(err) && err.code === 'ERR_TOKEN_EXPIRED') await refreshLogin();
 *   else throw err;
 * }
 * ```
 */

/** Codes for an identity token that was refused. A refused token changes nothing. */
export type TokenErrorCode =
  | 'ERR_TOKEN_TYPE'
  | 'ERR_TOKEN_TOO_LARGE'
  | 'ERR_TOKEN_MALFORMED'
  | 'ERR_TOKEN_ALGORITHM'
  | 'ERR_TOKEN_HEADER'
  | 'ERR_TOKEN_SIGNATURE'
  | 'ERR_TOKEN_KEY_UNKNOWN'
  | 'ERR_TOKEN_EXPIRED'
  | 'ERR_TOKEN_NOT_YET_VALID'
  | 'ERR_TOKEN_CLAIM';

/** Every code tabwarden uses. */
export type ErrorCode =
  | TokenErrorCode
  /** The keys to verify with could not be fetched; the token itself may be fine. */
  | 'ERR_KEYS_UNAVAILABLE'
  /** The page API was called before `onEmbeddedMessagingReady`. */
  | 'ERR_NOT_READY'
  /** The calling tab has not presented a valid identity token since it loaded (R3). */
  | 'ERR_NOT_VERIFIED'
  /** The request needs a session and none was started. */
  | 'ERR_NO_SESSION'
  /** The session was cleared while the request waited. */
  | 'ERR_SESSION_CLEARED'
  /** The server refused the identity or authorization token (HTTP 401/403). */
  | 'ERR_AUTHORIZATION_FAILED'
  /** The network failed: not an auth failure, so the session is kept (R12). */
  | 'ERR_NETWORK'
  /** The server answered with an error that is neither auth nor network. */
  | 'ERR_SERVER'
  /** A call did not finish within its time limit. */
  | 'ERR_TIMEOUT'
  /** Arguments or a message had the wrong shape. */
  | 'ERR_INVALID_ARGUMENT'
  /** A worker script (or the in-page host) is missing or failed to start: its URL and HTTP status say why. */
  | 'ERR_WORKER_UNAVAILABLE'
  /**
   * The browser's storage failed: it refused to store the session (its quota is used up: nothing
   * was started), or the database cannot be upgraded while an older tab holds it open.
   */
  | 'ERR_STORAGE'
  /** The message is on its way to the server right now: it can no longer be discarded (R12). */
  | 'ERR_MESSAGE_IN_FLIGHT'
  // Codes the reference server answers with (src/server); clients see them in error messages.
  /** No usable authorization token: missing, malformed, or not signed by this server. */
  | 'ERR_ACCESS_TOKEN_INVALID'
  /** The authorization token's lifetime is over; exchange a fresh identity token (R5). */
  | 'ERR_ACCESS_TOKEN_EXPIRED'
  /** The authorization token was revoked (logout, R7). */
  | 'ERR_ACCESS_TOKEN_REVOKED'
  /** No such resource for this subject (another subject's conversation looks absent, too). */
  | 'ERR_NOT_FOUND'
  /** The conversation has ended; start a new one. */
  | 'ERR_CONVERSATION_ENDED'
  /** The request body is over the server's size limit. */
  | 'ERR_PAYLOAD_TOO_LARGE'
  /** Too many requests; retry after the `Retry-After` header's seconds. */
  | 'ERR_RATE_LIMITED'
  /** The authorization token already holds as many event streams as the server allows. */
  | 'ERR_TOO_MANY_STREAMS'
  /** `Last-Event-ID` is beyond the conversation's last entry: nothing the server sent. */
  | 'ERR_LAST_EVENT_ID_AHEAD'
  /** A client message id was posted again with a different text. */
  | 'ERR_MESSAGE_ID_REUSED';

/** Base class of every tabwarden error. */
export class TabwardenError extends Error {
  readonly code: ErrorCode;
  /** With `ERR_RATE_LIMITED`: how long the server asked to wait (its `Retry-After`), when it said. */
  readonly retryAfterMs?: number;
  /** The HTTP status, when the server answered: the outbox tells a 5xx (retry) from a 4xx (R12). */
  readonly status?: number;

  constructor(
    code: ErrorCode,
    message: string,
    options?: { cause?: unknown; retryAfterMs?: number; status?: number },
  ) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
    // Declared fields are own properties already (undefined unless given): no check needed.
    this.retryAfterMs = options?.retryAfterMs;
    this.status = options?.status;
  }
}

/** An identity token was refused; `code` says why (R2). */
export class IdentityTokenError extends TabwardenError {
  declare readonly code: TokenErrorCode | 'ERR_KEYS_UNAVAILABLE';

  constructor(code: TokenErrorCode | 'ERR_KEYS_UNAVAILABLE', message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** True for any error raised by tabwarden, also one rebuilt from the wire. */
export function isTabwardenError(value: unknown): value is TabwardenError {
  return value instanceof TabwardenError;
}

/** An error as it crosses the page/worker boundary: plain data, no stack. */
export interface SerializedError {
  code: ErrorCode;
  message: string;
  retryAfterMs?: number;
}

// Every code, once, with the class an error of that code is rebuilt as. The Record type makes the
// compiler refuse a code left out (or one that does not exist), so a new code must be classified
// here; the mapped type makes it refuse a token code rebuilt as anything but IdentityTokenError.
const errorClasses: {
  [C in ErrorCode]: C extends IdentityTokenError['code'] ? typeof IdentityTokenError : typeof TabwardenError;
} = {
  ERR_TOKEN_TYPE: IdentityTokenError,
  ERR_TOKEN_TOO_LARGE: IdentityTokenError,
  ERR_TOKEN_MALFORMED: IdentityTokenError,
  ERR_TOKEN_ALGORITHM: IdentityTokenError,
  ERR_TOKEN_HEADER: IdentityTokenError,
  ERR_TOKEN_SIGNATURE: IdentityTokenError,
  ERR_TOKEN_KEY_UNKNOWN: IdentityTokenError,
  ERR_TOKEN_EXPIRED: IdentityTokenError,
  ERR_TOKEN_NOT_YET_VALID: IdentityTokenError,
  ERR_TOKEN_CLAIM: IdentityTokenError,
  ERR_KEYS_UNAVAILABLE: IdentityTokenError,
  ERR_NOT_READY: TabwardenError,
  ERR_NOT_VERIFIED: TabwardenError,
  ERR_NO_SESSION: TabwardenError,
  ERR_SESSION_CLEARED: TabwardenError,
  ERR_AUTHORIZATION_FAILED: TabwardenError,
  ERR_NETWORK: TabwardenError,
  ERR_SERVER: TabwardenError,
  ERR_TIMEOUT: TabwardenError,
  ERR_INVALID_ARGUMENT: TabwardenError,
  ERR_WORKER_UNAVAILABLE: TabwardenError,
  ERR_STORAGE: TabwardenError,
  ERR_MESSAGE_IN_FLIGHT: TabwardenError,
  ERR_ACCESS_TOKEN_INVALID: TabwardenError,
  ERR_ACCESS_TOKEN_EXPIRED: TabwardenError,
  ERR_ACCESS_TOKEN_REVOKED: TabwardenError,
  ERR_NOT_FOUND: TabwardenError,
  ERR_CONVERSATION_ENDED: TabwardenError,
  ERR_PAYLOAD_TOO_LARGE: TabwardenError,
  ERR_RATE_LIMITED: TabwardenError,
  ERR_TOO_MANY_STREAMS: TabwardenError,
  ERR_LAST_EVENT_ID_AHEAD: TabwardenError,
  ERR_MESSAGE_ID_REUSED: TabwardenError,
};

/** True when `code` is one of tabwarden's codes. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(errorClasses, code);
}

/**
 * Plain data for the wire. Anything that is not a tabwarden error becomes `ERR_SERVER` with a
 * generic message: internals (and anything a foreign error might carry) never cross over.
 */
export function serializeError(error: unknown): SerializedError {
  if (isTabwardenError(error)) {
    const { code, message, retryAfterMs } = error;
    return retryAfterMs === undefined ? { code, message } : { code, message, retryAfterMs };
  }
  return { code: 'ERR_SERVER', message: 'Unexpected internal error' };
}

/**
 * Rebuilds a typed error from the wire, keeping its code: its class comes from the code's entry in
 * the table above (an unknown code, from an older or foreign writer, becomes a TabwardenError).
 */
export function deserializeError(data: SerializedError): TabwardenError {
  const ErrorClass: typeof TabwardenError = isErrorCode(data.code) ? errorClasses[data.code] : TabwardenError;
  const retryAfterMs = data.retryAfterMs;
  const valid = typeof retryAfterMs === 'number' && Number.isFinite(retryAfterMs) && retryAfterMs >= 0;
  return new ErrorClass(data.code, data.message, valid ? { retryAfterMs } : undefined);
}
