import { Hono, type Context } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import { IdentityTokenError } from '../../core/errors.ts';
import type { Subject } from '../../core/protocol.ts';
import type { ExchangeResponse } from '../../core/server-api.ts';
import { ApiError, badRequest } from '../api-error.ts';
import type { AppEnv, AppServices } from '../app-services.ts';
import { authenticate } from '../authenticate.ts';
import { redactToken } from '../log.ts';
import { readJsonObject } from '../read-json-object.ts';

/** The client's address as the socket saw it (no proxy headers are trusted). */
function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function rateLimited(retryAfterSeconds: number, what: string): ApiError {
  return new ApiError(429, 'ERR_RATE_LIMITED', `Too many exchanges from this ${what}; retry later`, {
    headers: { 'retry-after': String(retryAfterSeconds) },
  });
}

/**
 * The authorization routes, to mount at `/v1/authorization`: `POST /` exchanges a verified
 * identity token for an authorization token (rate-limited per address, then per subject);
 * `POST /revoke` revokes the bearer's authorization token, idempotently.
 *
 * @example
 * ```ts
 * app.route('/v1/authorization', authorizationRoutes(services));
 * ```
 */
export function authorizationRoutes(
  services: Pick<
    AppServices,
    'verifier' | 'accessTokens' | 'exchangesPerAddress' | 'exchangesPerSubject' | 'log'
  >,
): Hono<AppEnv> {
  const { verifier, accessTokens, log } = services;
  const app = new Hono<AppEnv>();

  app.post('/', async (c) => {
    // Per address first: it is checked before the costly signature check, so a flood of junk
    // tokens is cut off cheaply.
    const address = clientAddress(c);
    const byAddress = services.exchangesPerAddress.take(address);
    if (!byAddress.allowed) throw rateLimited(byAddress.retryAfterSeconds, 'address');

    const body = await readJsonObject(c);
    if (!('identityToken' in body)) throw badRequest('identityToken is required');
    // Whatever its type, the verifier decides and codes the refusal (R13: never trust the client).
    let identity;
    try {
      identity = await verifier.verify(body.identityToken);
    } catch (error) {
      if (!(error instanceof IdentityTokenError)) throw error;
      if (log.enabled) log(`exchange refused ${error.code} token=${redactToken(body.identityToken)}`);
      // Unavailable keys are the server's trouble, not the token's: 503, so clients retry.
      const status = error.code === 'ERR_KEYS_UNAVAILABLE' ? 503 : 401;
      throw new ApiError(status, error.code, error.message);
    }
    const subject: Subject = { iss: identity.iss, sub: identity.sub };
    const bySubject = services.exchangesPerSubject.take(JSON.stringify([subject.iss, subject.sub]));
    if (!bySubject.allowed) throw rateLimited(bySubject.retryAfterSeconds, 'subject');

    const issued = await accessTokens.issue(subject);
    if (log.enabled) log(`exchange ok jti=${issued.jti} token=${redactToken(body.identityToken)}`);
    const answer: ExchangeResponse = {
      accessToken: issued.accessToken,
      expiresAt: issued.expiresAt,
      subject,
    };
    return c.json(answer);
  });

  app.post('/revoke', async (c) => {
    // Idempotent: revoking an expired or already revoked token of ours is fine.
    const claims = await authenticate(accessTokens, c, { allowExpired: true, allowRevoked: true });
    // The store tells every instance's streams, this one's included.
    await accessTokens.revoke(claims);
    log(`revoked jti=${claims.jti}`);
    return c.json({ revoked: true });
  });

  return app;
}
