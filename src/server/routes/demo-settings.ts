import { Hono } from 'hono';
import { badRequest } from '../api-error.ts';
import type { AppEnv, AppServices } from '../app-services.ts';
import { DEMO_MAX_LIFETIME_SECONDS } from '../demo-identity-provider.ts';
import { readJsonObject } from '../read-json-object.ts';

/**
 * The demo portal's settings (demo mode only), to mount at `/demo/settings`: `GET /` reads and
 * `POST /` sets the authorization token's lifetime, so a visitor can shorten it and watch R5/R6
 * happen.
 *
 * @example
 * ```ts
 * app.route('/demo/settings', demoSettingsRoutes(services));
 * ```
 */
export function demoSettingsRoutes(services: Pick<AppServices, 'accessTokens'>): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/', (c) => c.json({ accessTokenLifetimeSeconds: services.accessTokens.lifetimeSeconds }));
  app.post('/', async (c) => {
    const { accessTokenLifetimeSeconds } = await readJsonObject(c);
    if (
      typeof accessTokenLifetimeSeconds !== 'number' ||
      !Number.isInteger(accessTokenLifetimeSeconds) ||
      accessTokenLifetimeSeconds < 1 ||
      accessTokenLifetimeSeconds > DEMO_MAX_LIFETIME_SECONDS
    ) {
      throw badRequest(
        `accessTokenLifetimeSeconds must be a whole number from 1 to ${DEMO_MAX_LIFETIME_SECONDS}`,
      );
    }
    services.accessTokens.lifetimeSeconds = accessTokenLifetimeSeconds;
    return c.json({ accessTokenLifetimeSeconds });
  });

  return app;
}
