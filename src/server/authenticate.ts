import type { Context } from 'hono';
import { TabwardenError } from '../core/errors.ts';
import type { AccessTokenClaims, AccessTokens } from './access-tokens.ts';
import { ApiError } from './api-error.ts';

const BEARER = /^Bearer +([^\s]+) *$/i;

/**
 * Reads and checks the request's `Authorization: Bearer <token>`. A missing, malformed or refused
 * token is a 401 with the token's `ERR_ACCESS_TOKEN_*` code and a `WWW-Authenticate` challenge.
 *
 * @example
 * ```ts
 * app.use('*', async (c, next) => {
 *   c.set('auth', await authenticate(accessTokens, c));
 *   await next();
 * });
 * ```
 */
export async function authenticate(
  accessTokens: AccessTokens,
  c: Context,
  verifyOptions?: { allowExpired?: boolean; allowRevoked?: boolean },
): Promise<AccessTokenClaims> {
  const challenge = { 'www-authenticate': 'Bearer error="invalid_token"' };
  const header = c.req.header('authorization');
  const token = header === undefined ? undefined : BEARER.exec(header)?.[1];
  if (header !== undefined && token === undefined) {
    throw new ApiError(401, 'ERR_ACCESS_TOKEN_INVALID', 'The Authorization header must be "Bearer <token>"', {
      headers: challenge,
    });
  }
  try {
    return await accessTokens.verify(token, verifyOptions);
  } catch (error) {
    if (error instanceof TabwardenError && error.code.startsWith('ERR_ACCESS_TOKEN_')) {
      throw new ApiError(401, error.code, error.message, { headers: challenge });
    }
    throw error;
  }
}
