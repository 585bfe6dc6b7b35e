import { TabwardenError, type ErrorCode } from '../core/errors.ts';
import type { ErrorResponse } from '../core/server-api.ts';

/**
 * An error the API answers with: an HTTP status, a tabwarden code and a message that is safe
 * to show (never a token, never an internal detail). Thrown anywhere in a handler; the app's
 * error handler turns it into `{ code, message }`.
 *
 * @example
 * ```ts
 * throw new ApiError(404, 'ERR_NOT_FOUND', 'No such conversation');
 * ```
 */
export class ApiError extends TabwardenError {
  override readonly status: number;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    code: ErrorCode,
    message: string,
    options: { headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(code, message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = status;
    this.headers = options.headers ?? {};
  }

  /** The JSON body of the answer. */
  toResponseBody(): ErrorResponse {
    return { code: this.code, message: this.message };
  }
}

/** 400 with `ERR_INVALID_ARGUMENT`. */
export function badRequest(message: string): ApiError {
  return new ApiError(400, 'ERR_INVALID_ARGUMENT', message);
}
