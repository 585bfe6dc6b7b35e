import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { ApiError } from './api-error.ts';
import type { AppEnv, AppServices } from './app-services.ts';

/**
 * The middleware every request passes through before any route, in this order: the shutdown
 * guard, the request hook and log (with `X-Content-Type-Options`), `Cache-Control: no-store` on
 * the API, CORS (when origins are configured), the body limit. A sub-app to mount at `/` ahead of
 * the routes: Hono runs handlers in the order they were registered.
 *
 * @example
 * ```ts
 * const app = new Hono<AppEnv>();
 * app.route('/', sharedMiddleware(services));
 * app.route('/v1/authorization', authorizationRoutes(services));
 * ```
 */
export function sharedMiddleware(services: Pick<AppServices, 'options' | 'log' | 'isClosing'>): Hono<AppEnv> {
  const { options, log } = services;
  const app = new Hono<AppEnv>();

  app.use('*', async (c, next) => {
    // Shutdown: requests that arrive on kept-alive connections are turned away politely.
    if (!services.isClosing()) return next();
    c.header('connection', 'close');
    return c.json({ code: 'ERR_SERVER', message: 'The server is shutting down' }, 503);
  });
  app.use('*', async (c, next) => {
    const answered = options.onRequest({ method: c.req.method, path: c.req.path });
    const started = performance.now();
    await next();
    answered?.(c.res.status);
    // On the answer's own headers: `c.header()` after the handler would rebuild the answer as a
    // stream-bodied Response, which @hono/node-server then writes out the slow way.
    c.res.headers.set('x-content-type-options', 'nosniff');
    // The path only: a query string is never logged, whatever a client put there.
    if (log.enabled) {
      log(`${c.req.method} ${c.req.path} ${c.res.status} ${(performance.now() - started).toFixed(1)}ms`);
    }
  });

  // Nothing the API answers may be cached: the answers carry tokens and private messages. Registered
  // before the body limit, so its 413 carries the header too.
  app.use('/v1/*', async (c, next) => {
    await next();
    c.res.headers.set('cache-control', 'no-store');
  });

  if (options.corsOrigins.length > 0) {
    const corsMiddleware = cors({
      origin: options.corsOrigins,
      allowMethods: ['GET', 'POST', 'OPTIONS'],
      allowHeaders: ['authorization', 'content-type', 'last-event-id'],
      exposeHeaders: ['retry-after'],
      maxAge: 600,
    });
    app.use('/v1/*', corsMiddleware);
    app.use('/demo/*', corsMiddleware);
  }

  const tooLarge = () =>
    new ApiError(
      413,
      'ERR_PAYLOAD_TOO_LARGE',
      `The request body is larger than ${options.bodyLimitBytes} bytes`,
    );
  const limitStreamedBody = bodyLimit({
    maxSize: options.bodyLimitBytes,
    onError: () => {
      throw tooLarge();
    },
  });
  app.use('*', async (c, next) => {
    // Hono's bodyLimit reads `c.req.raw.body`, which makes @hono/node-server build a whole
    // WHATWG Request with a web stream over the socket for every request, GETs included. A
    // declared Content-Length is checked here instead (Node's HTTP parser holds the body to it);
    // only a body without one (chunked) goes through bodyLimit, which counts while reading.
    const method = c.req.method;
    if (method === 'GET' || method === 'HEAD') return next();
    const declared = c.req.header('content-length');
    if (declared === undefined || c.req.header('transfer-encoding') !== undefined) {
      return limitStreamedBody(c, next);
    }
    if (!(Number(declared) <= options.bodyLimitBytes)) throw tooLarge();
    return next();
  });

  return app;
}
