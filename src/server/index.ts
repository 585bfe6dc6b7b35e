import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import type { JSONWebKeySet } from 'jose';
import {
  createIdentityTokenVerifier,
  type IdentityTokenVerifierOptions,
} from '../core/verify-identity-token.ts';
import { AccessTokens } from './access-tokens.ts';
import { createApp } from './app.ts';
import { DemoAgent } from './demo-agent.ts';
import { DemoIdentityProvider } from './demo-identity-provider.ts';
import { EntryHub } from './entry-hub.ts';
import { createServerLog } from './log.ts';
import { resolveServerOptions, type ResolvedServerOptions, type ServerOptions } from './options.ts';
import { RateLimiter } from './rate-limit.ts';
import { EntryStreams } from './sse.ts';
import { openServerStore, type ServerStore } from './store.ts';

export type { ServerOptions, ResolvedServerOptions } from './options.ts';
export { resolveServerOptions } from './options.ts';
export { DemoIdentityProvider, DEMO_ISSUER } from './demo-identity-provider.ts';
export { redactSecrets, redactToken, createRedactingLogger } from './log.ts';
export type { Logger } from './log.ts';

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

function identityKeyset(options: ResolvedServerOptions, demo: DemoIdentityProvider | undefined) {
  const keyset: Pick<IdentityTokenVerifierOptions, 'issuer' | 'jwks' | 'jwksUrl'> = {
    issuer: options.issuer ?? demo?.issuer ?? '',
  };
  if (options.jwksUrl) keyset.jwksUrl = options.jwksUrl;
  else if (options.jwks) keyset.jwks = options.jwks;
  else if (options.jwksFile)
    keyset.jwks = JSON.parse(readFileSync(options.jwksFile, 'utf8')) as JSONWebKeySet;
  else if (demo) keyset.jwks = demo.jwks;
  return keyset;
}

/** Starts listening; rejects (e.g. EADDRINUSE) instead of crashing. */
function listen(
  app: { fetch: (request: Request) => Response | Promise<Response> },
  options: ResolvedServerOptions,
): Promise<Server> {
  return new Promise<Server>((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port: options.port, hostname: options.host }) as Server;
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/**
 * Starts the reference server: identity-token exchange, authorization tokens, conversations in
 * SQLite with server-sent events, the demo agent, and (in demo mode) the demo identity provider.
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
  const clock = resolved.clock;
  let store: ServerStore | undefined;
  let agent: DemoAgent | undefined;
  try {
    store = openServerStore(resolved.database);
    const openStore = store;
    const audience = Array.isArray(resolved.audience) ? resolved.audience[0] : resolved.audience;
    const demoIdentityProvider = resolved.demo
      ? await DemoIdentityProvider.open({
          dataDir: resolved.dataDir,
          clock,
          ...(audience === undefined ? {} : { audience }),
        })
      : undefined;
    const keyset = identityKeyset(resolved, demoIdentityProvider);
    // The one verifier of src/core: the server and the worker apply the same rules (R2, R13).
    const verifier = createIdentityTokenVerifier({
      ...keyset,
      ...(resolved.audience === undefined ? {} : { audience: resolved.audience }),
      algorithms: resolved.algorithms,
      clockToleranceSeconds: resolved.clockToleranceSeconds,
      clock,
    });
    const accessTokens = await AccessTokens.create({
      store,
      clock,
      lifetimeSeconds: resolved.accessTokenLifetimeSeconds,
    });
    const hub = new EntryHub();
    const streams = new EntryStreams({ store, hub, clock, heartbeatMs: resolved.sseHeartbeatMs });
    const replyingAgent = new DemoAgent({
      delayMs: resolved.agentReplyDelayMs,
      clock,
      reply(conversationId, text) {
        try {
          const result = openStore.appendEntry(conversationId, { role: 'agent', text }, clock.now());
          if (result?.created) hub.publish(conversationId, { type: 'entry', entry: result.entry });
        } catch (error) {
          log(`agent reply failed: ${String(error)}`);
        }
      },
    });
    agent = replyingAgent;
    let closing: Promise<void> | undefined;
    const app = createApp({
      options: resolved,
      store,
      verifier,
      accessTokens,
      hub,
      streams,
      agent,
      exchangesPerAddress: new RateLimiter({ perMinute: resolved.exchangesPerAddressPerMinute, clock }),
      exchangesPerSubject: new RateLimiter({ perMinute: resolved.exchangesPerSubjectPerMinute, clock }),
      demoIdentityProvider,
      log,
      isClosing: () => closing !== undefined,
    });
    const server = await listen(app, resolved);
    const { port } = server.address() as AddressInfo;
    const host = resolved.host;
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

    const shutdown = async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Streams never end by themselves; ending them lets their connections finish.
      streams.endAll();
      server.closeIdleConnections();
      const force = setTimeout(() => server.closeAllConnections(), resolved.shutdownTimeoutMs);
      // Connections that finish their last request after close() began are idle from then on.
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      try {
        await closed;
      } finally {
        clearTimeout(force);
        clearInterval(sweep);
        replyingAgent.stop();
        openStore.close();
      }
      log('server closed');
    };

    return {
      url,
      port,
      host,
      issuer: keyset.issuer,
      options: resolved,
      demoIdentityProvider,
      get openStreams() {
        return streams.size;
      },
      close() {
        closing ??= shutdown();
        return closing;
      },
    };
  } catch (error) {
    agent?.stop();
    store?.close();
    throw error;
  }
}
