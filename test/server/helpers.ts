// Shared by the server tests: a server on 127.0.0.1 over a real SQLite file in a temp folder or a
// real Postgres schema (TABWARDEN_TEST_STORE, set per vitest project), JSON requests, and an SSE
// reader that waits for events (with a timeout) instead of sleeping.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import type { ConversationEntry } from '../../src/core/protocol.ts';
import type { ExchangeResponse } from '../../src/core/server-api.ts';
import { startServer, type RunningServer, type ServerOptions } from '../../src/server/index.ts';
import { openServerStore } from '../../src/server/store.ts';
import { createTestIdentityProvider, type TestIdentityProvider } from '../../src/testing/index.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The admin URL of the run's throwaway Postgres cluster (postgres-global-setup.ts). */
    postgresAdminUrl: string;
  }
}

// Answers are read loosely in tests; each test asserts the shape it relies on.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Loose = any;

/** A temp folder removed by the returned function. */
export function makeTempDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'tabwarden-server-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Settings that keep tests fast and unthrottled unless a test says otherwise. */
export function testOptions(idp: TestIdentityProvider, dataDir: string): ServerOptions {
  return {
    port: 0,
    dataDir,
    issuer: idp.issuer,
    jwks: idp.jwks,
    agentReplyDelayMs: 20,
    exchangesPerAddressPerMinute: 0,
    exchangesPerSubjectPerMinute: 0,
    staticDir: join(dataDir, 'no-public'),
    bundlesDir: join(dataDir, 'no-bundles'),
  };
}

let sharedIdp: Promise<TestIdentityProvider> | undefined;

/** The store this run of the suite tests: the vitest project sets it. */
export const testStore: 'sqlite' | 'postgres' =
  process.env.TABWARDEN_TEST_STORE === 'postgres' ? 'postgres' : 'sqlite';

/** Runs `sql` on the run's Postgres cluster as its admin. */
async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: inject('postgresAdminUrl') });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * Databases for one harness: SQLite files in its folder, or (Postgres) schemas of their own in
 * the run's cluster — a schema is made in milliseconds where a database takes a second.
 */
function databases(dir: string) {
  const schemas: string[] = [];
  return {
    async create(name: string): Promise<string> {
      if (testStore === 'sqlite') return join(dir, `${name}.sqlite`);
      const schema = `t_${randomUUID().replaceAll('-', '')}`;
      await adminQuery(`CREATE SCHEMA ${schema}`);
      schemas.push(schema);
      const url = new URL(inject('postgresAdminUrl'));
      url.searchParams.set('options', `-c search_path=${schema}`);
      return url.toString();
    },
    async removeAll(): Promise<void> {
      if (schemas.length > 0) await adminQuery(`DROP SCHEMA ${schemas.join(', ')} CASCADE`);
    },
  };
}

/**
 * A server with a test identity provider, on this run's store; every started one is closed by
 * `cleanup()`. Servers started without a `database` share the harness's. The identity provider
 * is shared within a test file: RSA key generation is slow and varies.
 */
export async function createHarness() {
  sharedIdp ??= createTestIdentityProvider({ issuer: 'https://idp.server.test', kid: 'server-test-key' });
  const idp = await sharedIdp;
  const temp = makeTempDir();
  const stores = databases(temp.dir);
  const database = await stores.create('tabwarden');
  const servers: RunningServer[] = [];
  return {
    idp,
    dir: temp.dir,
    /** The database servers share unless told otherwise. */
    database,
    /** Another empty database of this run's kind. */
    newDatabase: (name: string) => stores.create(name),
    /** Opens a store on `database` directly (to seed or inspect it). */
    openStore: (at: string) => openServerStore(at),
    async start(overrides: ServerOptions = {}): Promise<RunningServer> {
      const server = await startServer({ ...testOptions(idp, temp.dir), database, ...overrides });
      servers.push(server);
      return server;
    },
    async cleanup() {
      await Promise.all(servers.map((server) => server.close()));
      await stores.removeAll();
      temp.remove();
    },
  };
}

/** A JSON request; answers status, parsed body and headers. */
export async function request(
  server: { url: string },
  method: string,
  path: string,
  options: { body?: unknown; rawBody?: string; accessToken?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: Loose; headers: Headers }> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.body !== undefined) headers['content-type'] ??= 'application/json';
  if (options.accessToken !== undefined) headers.authorization = `Bearer ${options.accessToken}`;
  const response = await fetch(new URL(path, server.url), {
    method,
    headers,
    ...(options.rawBody !== undefined
      ? { body: options.rawBody }
      : options.body !== undefined
        ? { body: JSON.stringify(options.body) }
        : {}),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: keep the text.
  }
  return { status: response.status, body, headers: response.headers };
}

/** Exchanges an identity token and expects success. */
export async function exchange(server: { url: string }, identityToken: string): Promise<ExchangeResponse> {
  const { status, body } = await request(server, 'POST', '/v1/authorization', { body: { identityToken } });
  if (status !== 200) throw new Error(`exchange answered ${status} ${JSON.stringify(body)}`);
  return body as ExchangeResponse;
}

/** Signs `sub` in: identity token, exchange, open conversation. */
export async function signIn(server: RunningServer, idp: TestIdentityProvider, sub: string) {
  const { accessToken } = await exchange(server, await idp.mint({ sub }));
  const { body } = await request(server, 'POST', '/v1/conversations', { accessToken });
  return { accessToken, conversationId: body.conversationId as string };
}

/** One server-sent event. */
export interface SseEvent {
  id?: string;
  event: string;
  data: Loose;
}

/**
 * Opens an SSE stream with fetch (as tabwarden's clients do: the token goes in the Authorization
 * header, never in the URL) and reads events one at a time.
 */
export async function openEvents(
  server: { url: string },
  conversationId: string,
  accessToken: string,
  lastEventId?: number,
) {
  const controller = new AbortController();
  const response = await fetch(new URL(`/v1/conversations/${conversationId}/events`, server.url), {
    headers: {
      authorization: `Bearer ${accessToken}`,
      ...(lastEventId === undefined ? {} : { 'last-event-id': String(lastEventId) }),
    },
    signal: controller.signal,
  });
  if (!response.body) throw new Error(`no stream (status ${response.status})`);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let ended = false;
  let pending: Promise<ReadableStreamReadResult<string>> | undefined;
  const comments: string[] = [];

  const queue: SseEvent[] = [];

  /** Moves every complete block of the buffer to `queue` (events) or `comments`. */
  function parseBlocks(): void {
    for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event: SseEvent = { event: 'message', data: undefined };
      let hasData = false;
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) comments.push(line);
        else if (line.startsWith('id: ')) event.id = line.slice(4);
        else if (line.startsWith('event: ')) event.event = line.slice(7);
        else if (line.startsWith('data: ')) {
          event.data = JSON.parse(line.slice(6));
          hasData = true;
        }
      }
      if (hasData) queue.push(event);
    }
  }

  /** Reads until `done()` holds or the stream ends; rejects after `timeoutMs`. */
  async function readUntil(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (parseBlocks(); !done() && !ended; parseBlocks()) {
      pending ??= reader.read();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), Math.max(0, deadline - Date.now()));
      });
      const result = await Promise.race([pending, timeout]);
      clearTimeout(timer);
      if (result === 'timeout') throw new Error(`no SSE ${what} within ${timeoutMs} ms`);
      pending = undefined;
      if (result.done) ended = true;
      else buffer += result.value;
    }
  }

  /** The next event, `undefined` once the server ended the stream; rejects after `timeoutMs`. */
  async function next(timeoutMs = 5000): Promise<SseEvent | undefined> {
    await readUntil(() => queue.length > 0, timeoutMs, 'event');
    return queue.shift();
  }

  /** Waits for the next comment line (a keep-alive). */
  async function nextComment(timeoutMs = 5000): Promise<string | undefined> {
    const seen = comments.length;
    await readUntil(() => comments.length > seen, timeoutMs, 'comment');
    return comments[seen];
  }

  /** The next `entry` event's entry, skipping nothing: any other event fails. */
  async function nextEntry(timeoutMs = 5000): Promise<ConversationEntry> {
    const event = await next(timeoutMs);
    if (event?.event !== 'entry') throw new Error(`expected an entry, got ${JSON.stringify(event)}`);
    return event.data as ConversationEntry;
  }

  return {
    response,
    next,
    nextEntry,
    nextComment,
    close: () => controller.abort(),
  };
}
