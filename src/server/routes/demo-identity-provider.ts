import { Hono } from 'hono';
import { badRequest } from '../api-error.ts';
import type { AppEnv } from '../app-services.ts';
import { DEMO_MAX_LIFETIME_SECONDS, type DemoIdentityProvider } from '../demo-identity-provider.ts';
import { readJsonObject } from '../read-json-object.ts';

const DEMO_JWKS_MAX_AGE_SECONDS = 300;

/**
 * The demo identity provider's routes (demo mode only), to mount at `/demo/idp`: its public keys
 * at `GET /jwks.json`, and `POST /token`, which mints an identity token for any `sub`.
 *
 * @example
 * ```ts
 * if (services.demoIdentityProvider) {
 *   app.route('/demo/idp', demoIdentityProviderRoutes(services.demoIdentityProvider));
 * }
 * ```
 */
export function demoIdentityProviderRoutes(idp: DemoIdentityProvider): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  // Cacheable, as identity providers serve their keys: a restarted worker's key fetch is then a
  // cache hit. Keys rotate by being published ahead of use, for longer than this.
  app.get('/jwks.json', (c) =>
    c.json(idp.jwks, 200, { 'cache-control': `public, max-age=${DEMO_JWKS_MAX_AGE_SECONDS}` }),
  );
  app.post('/token', async (c) => {
    const body = await readJsonObject(c);
    const { sub, expiresInSeconds = 300 } = body;
    if (typeof sub !== 'string' || sub.trim() === '' || sub.length > 256) {
      throw badRequest('sub must be a non-empty string of at most 256 characters');
    }
    if (
      typeof expiresInSeconds !== 'number' ||
      !Number.isInteger(expiresInSeconds) ||
      Math.abs(expiresInSeconds) > DEMO_MAX_LIFETIME_SECONDS
    ) {
      throw badRequest(`expiresInSeconds must be a whole number within ±${DEMO_MAX_LIFETIME_SECONDS}`);
    }
    const minted = await idp.mint({ sub, expiresInSeconds });
    c.header('cache-control', 'no-store');
    return c.json({ ...minted, issuer: idp.issuer });
  });

  return app;
}
