import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import type { JSONWebKeySet } from 'jose';
import {
  createIdentityTokenVerifier,
  type IdentityTokenVerifierOptions,
} from '../core/verify-identity-token.ts';
import { AccessTokens } from './access-tokens.ts';
import { createApp } from './app.ts';
import { DemoAgent } from './demo-agent.ts';
import { DemoIdentityProvider } from './demo-identity-provider.ts';
import { createServerLog, type ServerLog } from './log.ts';
import { resolveServerOptions, type ResolvedServerOptions, type ServerOptions } from './options.ts';
import { RateLimiter } from './rate-limit.ts';
import { EntryStreams } from './sse.ts';
import { openServerStore, type ServerStore } from './store.ts';

/** tabwarden's routes, ready to mount in an existing server. */
export interface TabwardenHandler {
  /** The Hono app: `yourApp.route('/', handler.app)`. */
  app: Hono;
  /** The routes as a fetch handler: a web `Request` in, a `Response` out. */
  fetch(request: Request): Response | Promise<Response>;
  /** The routes as a `node:http` request listener. */
  nodeListener(request: IncomingMessage, response: ServerResponse): void;
  /** The `iss` identity tokens must carry. */
  issuer: string;
  /** The options in force, defaults filled in. */
  options: ResolvedServerOptions;
  /** The demo identity provider, in demo mode. */
  demoIdentityProvider: DemoIdentityProvider | undefined;
  /** Number of open server-sent-event streams. */
  readonly openStreams: number;
  /** From now on, requests are answered 503 `ERR_SERVER` (shutting down). */
  beginClosing(): void;
  /**
   * Ends the event streams, drops pending agent replies and closes the database. The server the
   * handler is mounted in stays yours to close. Idempotent.
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

/**
 * The reference server's routes (identity-token exchange, authorization tokens, conversations
 * with server-sent events, the demo agent; the demo identity provider in demo mode) without a
 * listening socket, to mount in a Node server of your own. Static files are not served. Takes
 * the options of `startServer` (`port` and `host` are ignored); `database` may be a SQLite file
 * or a `postgres://` URL.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createTabwardenHandler } from 'tabwarden/server';
 *
 * const tabwarden = await createTabwardenHandler({
 *   issuer: 'https://idp.example.com',
 *   jwksUrl: 'https://idp.example.com/.well-known/jwks.json',
 *   database: 'postgres://tabwarden@db.internal/tabwarden',
 * });
 * const server = createServer((request, response) => {
 *   if (request.url?.startsWith('/v1/')) return tabwarden.nodeListener(request, response);
 *   response.end('my own page');
 * });
 * server.listen(8080);
 * // on shutdown: server.close(); await tabwarden.close();
 * ```
 */
export async function createTabwardenHandler(options: ServerOptions = {}): Promise<TabwardenHandler> {
  return buildHandler(resolveServerOptions(options), createServerLog(options.log), false);
}

/** Builds the handler; `serveFiles` for the standalone server. */
export async function buildHandler(
  resolved: ResolvedServerOptions,
  log: ServerLog,
  serveFiles: boolean,
): Promise<TabwardenHandler> {
  const clock = resolved.clock;
  let store: ServerStore | undefined;
  let agent: DemoAgent | undefined;
  try {
    store = await openServerStore(resolved.database, {
      sqliteSynchronous: resolved.sqliteSynchronous,
      postgresPoolSize: resolved.postgresPoolSize,
    });
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
    const streams = new EntryStreams({
      store,
      clock,
      heartbeatMs: resolved.sseHeartbeatMs,
      perAccessToken: resolved.streamsPerAccessToken,
    });
    const replyingAgent = new DemoAgent({
      delayMs: resolved.agentReplyDelayMs,
      clock,
      reply(conversationId, text) {
        // The store announces the reply to every instance's streams.
        openStore
          .appendEntry(conversationId, { role: 'agent', text }, clock.now())
          .catch((error: unknown) => log(`agent reply failed: ${String(error)}`));
      },
    });
    agent = replyingAgent;
    let closingBegun = false;
    let closed: Promise<void> | undefined;
    const app = createApp({
      options: resolved,
      store,
      verifier,
      accessTokens,
      streams,
      agent,
      exchangesPerAddress: new RateLimiter({ perMinute: resolved.exchangesPerAddressPerMinute, clock }),
      exchangesPerSubject: new RateLimiter({ perMinute: resolved.exchangesPerSubjectPerMinute, clock }),
      demoIdentityProvider,
      log,
      isClosing: () => closingBegun,
      serveFiles,
    });
    return {
      app: app as unknown as Hono,
      fetch: app.fetch,
      // With the Node request in the env, so the per-address rate limit sees the client's address.
      nodeListener: getRequestListener(app.fetch),
      issuer: keyset.issuer,
      options: resolved,
      demoIdentityProvider,
      get openStreams() {
        return streams.size;
      },
      beginClosing() {
        closingBegun = true;
        // Streams never end by themselves; ending them lets their connections finish.
        streams.endAll();
      },
      close() {
        closingBegun = true;
        closed ??= (async () => {
          streams.endAll();
          replyingAgent.stop();
          await openStore.close();
        })();
        return closed;
      },
    };
  } catch (error) {
    agent?.stop();
    await store?.close();
    throw error;
  }
}
