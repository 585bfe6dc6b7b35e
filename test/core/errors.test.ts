import { describe, expect, it } from 'vitest';
import {
  deserializeError,
  IdentityTokenError,
  isErrorCode,
  serializeError,
  TabwardenError,
  type ErrorCode,
  type SerializedError,
} from '../../src/core/errors.ts';

// The classification, written out here on its own: the Record type makes this list every code,
// so a code added to ErrorCode fails to compile until the test says which class it rebuilds as.
const expectedClass: Record<ErrorCode, typeof TabwardenError> = {
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
const codes = Object.keys(expectedClass) as ErrorCode[];

describe('errors: code -> class table', () => {
  it.each(codes)('%s round-trips through serialize/deserialize to its class, code and message', (code) => {
    const ErrorClass = expectedClass[code];
    const original = new ErrorClass(code, `message of ${code}`);
    const rebuilt = deserializeError(serializeError(original));
    expect(rebuilt).toBeInstanceOf(ErrorClass);
    expect(rebuilt instanceof IdentityTokenError).toBe(ErrorClass === IdentityTokenError);
    expect(rebuilt).toMatchObject({ code, message: `message of ${code}`, name: ErrorClass.name });
    expect(isErrorCode(code)).toBe(true);
  });

  it('every token code, and only those, rebuilds as an IdentityTokenError', () => {
    const tokenCodes = codes.filter((code) => expectedClass[code] === IdentityTokenError);
    expect(tokenCodes.sort()).toEqual(
      [...codes.filter((code) => code.startsWith('ERR_TOKEN_')), 'ERR_KEYS_UNAVAILABLE'].sort(),
    );
  });

  it('keeps a valid retryAfterMs and drops an invalid one', () => {
    const limited = new TabwardenError('ERR_RATE_LIMITED', 'slow down', { retryAfterMs: 1500 });
    expect(deserializeError(serializeError(limited)).retryAfterMs).toBe(1500);
    for (const retryAfterMs of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      const data: SerializedError = { code: 'ERR_RATE_LIMITED', message: 'slow down', retryAfterMs };
      expect(deserializeError(data).retryAfterMs).toBeUndefined();
    }
  });

  it('an unknown code (an older or foreign writer) rebuilds as a plain TabwardenError', () => {
    const data = { code: 'ERR_TOKEN_FROM_THE_FUTURE', message: '?' } as unknown as SerializedError;
    expect(isErrorCode(data.code)).toBe(false);
    const rebuilt = deserializeError(data);
    expect(rebuilt).toBeInstanceOf(TabwardenError);
    expect(rebuilt).not.toBeInstanceOf(IdentityTokenError);
    expect(rebuilt.code).toBe('ERR_TOKEN_FROM_THE_FUTURE');
  });
});
