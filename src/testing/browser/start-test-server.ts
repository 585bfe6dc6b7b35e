import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JSONWebKeySet } from 'jose';
import type { RunningServer, ServerOptions } from '../../server/index.ts';
import type { TestIdentityProvider } from '../test-identity-provider.ts';

/** One request that reached the test server, in the order they arrived. */
export interface RecordedRequest {
  method: string;
  /** The path, without the query string. */
  path: string;
  /** The status the server answered with; absent while the request is still being handled. */
  status?: number;
}

/**
 * Options of {@link startTestServer}: any reference-server option (see `docs/server.md`) except
 * where it listens, which is always a free port on 127.0.0.1.
 */
export interface StartTestServerOptions extends Omit<ServerOptions, 'port' | 'host'> {
  /**
   * An identity provider of your own (from `createTestIdentityProvider`): the server then
   * verifies against its issuer and JWKS, and {@link TestServer.mintIdentityToken} mints with it.
   * Default: the server's demo identity provider, whose JWKS it serves at `/demo/idp/jwks.json`.
   */
  identityProvider?: TestIdentityProvider;
}

/** What to mint. */
export interface MintIdentityTokenOptions {
  /** Default `'test-user'`. */
  sub?: string;
  /** Lifetime from now, in seconds. Default 300. Negative mints an already expired token. */
  expiresInSeconds?: number;
}

/** A reference server started for a test. */
export interface TestServer {
  /** Base URL, `http://127.0.0.1:<port>`. */
  url: string;
  /** The `iss` identity tokens must carry. */
  issuer: string;
  /**
   * The identity provider's public keys, for a page configured with an inline JWKS; `undefined`
   * when the server was given a `jwksFile` or `jwksUrl` of yours.
   */
  jwks: JSONWebKeySet | undefined;
  /** Where the server serves that JWKS (demo keys only); `undefined` with a keyset of yours. */
  jwksUrl: string | undefined;
  /** The running server itself (options in force, open streams). */
  server: RunningServer;
  /** Mints an RS256 identity token the server (and a worker configured like it) accepts. */
  mintIdentityToken(options?: MintIdentityTokenOptions): Promise<string>;
  /**
   * Every request that has reached the server so far, in the order they arrived, each with its
   * status once answered. Recorded by the server itself (its `onRequest` option), so requests a
   * service worker or a SharedWorker makes are there too.
   */
  requests(): RecordedRequest[];
  /**
   * How many requests with this method and path (no query) have reached the server so far,
   * answered or not.
   */
  requestCount(method: string, path: string): number;
  /**
   * How many `POST /v1/authorization` requests (identity-token exchanges) have reached the
   * server, whatever their answer. Counted as each request arrives, before the server handles
   * it, so an exchange still in flight counts too.
   */
  exchangeCount(): number;
  /** Stops the server and removes its temporary data folder. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts the reference server for a test: a free port on 127.0.0.1, an in-memory database, a
 * temporary data folder, demo mode (its identity provider mints tokens), no rate limits, a
 * 60-second authorization-token lifetime and a 50 ms demo agent. Any option can be overridden —
 * short lifetimes make expiry testable without fake clocks (a page's fake clock does not reach
 * its workers).
 *
 * @example
 * ```ts
 * import { test, expect } from '@playwright/test';
 * import { startTestServer } from 'tabwarden/testing';
 *
 * test('the app exchanges the token once', async ({ page }) => {
 *   const server = await startTestServer({ staticDir: 'dist/app', accessTokenLifetimeSeconds: 2 });
 *   try {
 *     await page.goto(`${server.url}/`);
 *     const token = await server.mintIdentityToken({ sub: 'alice', expiresInSeconds: 60 });
 *     // Hand the token over in memory, never in a URL (R3):
 *     await page.evaluate((token) => window.signIn(token), token);
 *     // ... click the conversation button, then:
 *     expect(server.exchangeCount()).toBe(1);
 *   } finally {
 *     await server.close();
 *   }
 * });
 * ```
 */
export async function startTestServer(options: StartTestServerOptions = {}): Promise<TestServer> {
  // Loaded on use, so importing tabwarden/testing for its other helpers opens no SQLite.
  const { startServer } = await import('../../server/index.ts');
  const { identityProvider, log: forward, onRequest: forwardRequest, ...serverOptions } = options;
  const temporaryDir = serverOptions.dataDir
    ? undefined
    : mkdtempSync(join(tmpdir(), 'tabwarden-test-server-'));
  const recorded: RecordedRequest[] = [];
  // Counting happens here, as each request arrives (before any handling), so a request still in
  // flight — say, one exchange five tabs wait on — is already counted.
  // The status is filled in once the request is answered.
  const onRequest = (request: { method: string; path: string }) => {
    const entry: RecordedRequest = { method: request.method, path: request.path };
    recorded.push(entry);
    const forwarded = forwardRequest?.(request);
    return (status: number) => {
      entry.status = status;
      forwarded?.(status);
    };
  };
  const keysetGiven =
    serverOptions.jwks !== undefined ||
    serverOptions.jwksFile !== undefined ||
    serverOptions.jwksUrl !== undefined;
  const ownKeyset =
    !keysetGiven && identityProvider ? { issuer: identityProvider.issuer, jwks: identityProvider.jwks } : {};

  let server: RunningServer;
  try {
    server = await startServer({
      demo: true,
      database: ':memory:',
      accessTokenLifetimeSeconds: 60,
      agentReplyDelayMs: 50,
      exchangesPerAddressPerMinute: 0,
      exchangesPerSubjectPerMinute: 0,
      sseHeartbeatMs: 1000,
      shutdownTimeoutMs: 1000,
      ...ownKeyset,
      ...serverOptions,
      ...(temporaryDir ? { dataDir: temporaryDir } : {}),
      port: 0,
      host: '127.0.0.1',
      ...(forward ? { log: forward } : {}),
      onRequest,
    });
  } catch (error) {
    if (temporaryDir) rmSync(temporaryDir, { recursive: true, force: true });
    throw error;
  }

  const demo = server.demoIdentityProvider;
  const usesDemoKeys = !keysetGiven && identityProvider === undefined && demo !== undefined;
  let closing: Promise<void> | undefined;
  return {
    url: server.url,
    issuer: server.issuer,
    jwks: identityProvider?.jwks ?? server.options.jwks ?? (usesDemoKeys ? demo.jwks : undefined),
    jwksUrl: usesDemoKeys ? `${server.url}/demo/idp/jwks.json` : undefined,
    server,
    async mintIdentityToken({ sub = 'test-user', expiresInSeconds = 300 } = {}) {
      if (identityProvider) return identityProvider.mint({ sub, expiresInSeconds });
      if (usesDemoKeys) return (await demo.mint({ sub, expiresInSeconds })).identityToken;
      throw new Error(
        'startTestServer: nothing to mint with — pass `identityProvider` when configuring your own keyset',
      );
    },
    requests: () => recorded.map((request) => ({ ...request })),
    requestCount: (method, path) =>
      recorded.filter((request) => request.method === method && request.path === path).length,
    exchangeCount: () =>
      recorded.filter((request) => request.method === 'POST' && request.path === '/v1/authorization').length,
    close() {
      closing ??= server.close().finally(() => {
        if (temporaryDir) rmSync(temporaryDir, { recursive: true, force: true });
      });
      return closing;
    },
  };
}
