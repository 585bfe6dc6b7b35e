import { existsSync } from 'node:fs';
import { Hono } from 'hono';
import { serveStatic } from '@hono/node-server/serve-static';
import type { AppEnv } from '../app-services.ts';
import type { ResolvedServerOptions } from '../options.ts';

/**
 * The standalone server's static files, to mount at `/` after every other route: the built
 * bundles under `/bundles/`, and the demo portal at the root. A folder that does not exist is
 * not served.
 *
 * @example
 * ```ts
 * if (services.serveFiles) app.route('/', staticFileRoutes(services.options));
 * ```
 */
export function staticFileRoutes(
  options: Pick<ResolvedServerOptions, 'bundlesDir' | 'staticDir'>,
): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  if (existsSync(options.bundlesDir)) {
    app.use(
      '/bundles/*',
      async (c, next) => {
        // Lets a service worker served from /bundles/ control the whole origin.
        c.header('service-worker-allowed', '/');
        await next();
      },
      serveStatic({ root: options.bundlesDir, rewriteRequestPath: (path) => path.replace(/^\/bundles/, '') }),
    );
  }
  // Last: it answers any path, so every route must have had its turn.
  if (existsSync(options.staticDir)) app.use('*', serveStatic({ root: options.staticDir }));

  return app;
}
