import type { ExchangeResponse } from './server-api.ts';
import { apiPaths } from './server-api.ts';
import { requestJson, type HttpClientOptions } from './request-json.ts';

/**
 * Exchanges identity tokens for authorization tokens at the reference server (DESIGN §3).
 * The session engine takes any object of this shape, so tests can replace it.
 */
export interface AuthorizationClient {
  /** `POST /v1/authorization`: rejects ERR_AUTHORIZATION_FAILED on 401, ERR_NETWORK, ERR_TIMEOUT. */
  exchange(identityToken: string): Promise<ExchangeResponse>;
  /** `POST /v1/authorization/revoke`: the access token stops working at once. */
  revoke(accessToken: string): Promise<void>;
}

/**
 * The HTTP authorization client.
 *
 * @example
 * ```ts
 * const authorization = createAuthorizationClient({ baseUrl: 'https://chat.example.com' });
 * const { accessToken, expiresAt } = await authorization.exchange(identityToken);
 * ```
 */
export function createAuthorizationClient(options: HttpClientOptions): AuthorizationClient {
  return {
    exchange(identityToken) {
      return requestJson<ExchangeResponse>(options, {
        method: 'POST',
        path: apiPaths.authorization,
        body: { identityToken },
      });
    },
    async revoke(accessToken) {
      await requestJson<unknown>(options, { method: 'POST', path: apiPaths.revoke, accessToken });
    },
  };
}
