import { Hono } from 'hono';
import { ApiError } from './api-error.ts';
import type { AppEnv, AppServices } from './app-services.ts';
import { createDemoLogin } from './demo-login.ts';
import { sharedMiddleware } from './middleware.ts';
import { readJsonObject } from './read-json-object.ts';
import { authorizationRoutes } from './routes/authorization.ts';
import { conversationRoutes } from './routes/conversations.ts';
import { demoIdentityProviderRoutes } from './routes/demo-identity-provider.ts';
import { demoSettingsRoutes } from './routes/demo-settings.ts';
import { staticFileRoutes } from './routes/static-files.ts';

/**
 * The reference server's HTTP application (Hono): the API of `src/core/server-api.ts`, the demo
 * identity provider in demo mode, and the static files of the demo portal. Each concept is a
 * sub-app of its own (`./middleware.ts`, `./routes/`), mounted here in the order Hono runs them.
 *
 * @example
 * ```ts
 * const app = createApp(services);
 * serve({ fetch: app.fetch, port: 8787, hostname: '127.0.0.1' });
 * ```
 */
export function createApp(services: AppServices): Hono<AppEnv> {
  const { options, log } = services;
  const app = new Hono<AppEnv>();

  // Only here: a sub-app's own onError would wrap each of its handlers, and its notFound is never
  // consulted once mounted. The sub-apps keep Hono's defaults, so their errors land here.
  app.onError((error, c) => {
    if (error instanceof ApiError) {
      for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
      return c.json(error.toResponseBody(), error.status as 400);
    }
    // The message of a foreign error may carry anything; the log redacts, the client gets nothing.
    log(`error ${c.req.method} ${c.req.path}: ${error instanceof Error ? error.stack : String(error)}`);
    return c.json({ code: 'ERR_SERVER', message: 'Unexpected internal error' }, 500);
  });
  app.notFound((c) => c.json({ code: 'ERR_NOT_FOUND', message: 'No such route' }, 404));

  // Mounting order is running order: the shared middleware first, the catch-all static files last.
  app.route('/', sharedMiddleware(services));
  app.get('/healthz', (c) => c.json({ ok: true }));
  app.route('/v1/authorization', authorizationRoutes(services));
  app.route('/v1/conversations', conversationRoutes(services));

  const idp = services.demoIdentityProvider;
  if (idp) {
    app.route('/demo/idp', demoIdentityProviderRoutes(idp));
    // The demo app's own login, a cookie session its tabs share (src/server/demo-login.ts).
    app.route(
      '/demo/session',
      createDemoLogin({ identityProvider: idp, clock: options.clock, readJsonObject }),
    );
    app.route('/demo/settings', demoSettingsRoutes(services));
  }

  if (services.serveFiles) app.route('/', staticFileRoutes(options));

  return app;
}
