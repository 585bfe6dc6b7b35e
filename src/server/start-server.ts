import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { buildHandler, type TabwardenHandler } from './handler.ts';
import type { DemoIdentityProvider } from './demo-identity-provider.ts';
import { createServerLog } from './log.ts';
import { resolveServerOptions, type ResolvedServerOptions, type ServerOptions } from './options.ts';

/** A running reference server. */
export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:8787`. */
  url: string;
  port: number;
  host: string;
  /** The `iss` identity tokens must carry. */
  issuer: string;
  /** The options in force, defaults filled in. */
  options: ResolvedServerOptions;
  /** The demo identity provider, in demo mode. */
  demoIdentityProvider: DemoIdentityProvider | undefined;
  /** Number of open server-sent-event streams. */
  readonly openStreams: number;
  /**
   * Graceful shutdown: stops accepting connections, ends SSE streams, lets in-flight requests
   * finish (cutting them after `shutdownTimeoutMs`), drops pending agent replies and closes the
   * database. Idempotent; resolves when all of that is done.
   */
  close(): Promise<void>;
}

/** Starts listening; rejects (e.g. EADDRINUSE) instead of crashing. */
function listen(handler: TabwardenHandler, options: ResolvedServerOptions): Promise<Server> {
  return new Promise<Server>((resolve, reject) => {
    const server = serve({ fetch: handler.fetch, port: options.port, hostname: options.host }) as Server;
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/**
 * Starts the reference server: identity-token exchange, authorization tokens, conversations in
 * SQLite or Postgres with server-sent events, the demo agent, (in demo mode) the demo identity
 * provider, and the demo portal's static files. To mount the routes in a server of your own, see
 * `createTabwardenHandler`.
 *
 * @example
 * ```ts
 * import { startServer } from './src/server/index.ts';
 * const server = await startServer({ demo: true, database: ':memory:', port: 0 });
 * const { identityToken } = await server.demoIdentityProvider!.mint({ sub: 'alice' });
 * const response = await fetch(`${server.url}/v1/authorization`, {
 *   method: 'POST',
 *   headers: { 'content-type': 'application/json' },
 *   body: JSON.stringify({ identityToken }),
 * });
 * await server.close();
 * ```
 */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const resolved = resolveServerOptions(options);
  // The option itself, not the resolved no-op default: without a sink, nothing is built.
  const log = createServerLog(options.log);
  const handler = await buildHandler(resolved, log, true);
  let server: Server;
  try {
    server = await listen(handler, resolved);
  } catch (error) {
    await handler.close();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  const host = resolved.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let closing: Promise<void> | undefined;
  const shutdown = async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    handler.beginClosing();
    server.closeIdleConnections();
    const force = setTimeout(() => server.closeAllConnections(), resolved.shutdownTimeoutMs);
    // Connections that finish their last request after close() began are idle from then on.
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    try {
      await closed;
    } finally {
      clearTimeout(force);
      clearInterval(sweep);
      await handler.close();
    }
    log('server closed');
  };

  return {
    url,
    port,
    host,
    issuer: handler.issuer,
    options: resolved,
    demoIdentityProvider: handler.demoIdentityProvider,
    get openStreams() {
      return handler.openStreams;
    },
    close() {
      closing ??= shutdown();
      return closing;
    },
  };
}
