// R15 at the HTTP level: two real server processes on one Postgres behind a 127.0.0.1
// round-robin proxy, as a deployment runs them. Postgres only (the server-sqlite project excludes
// this file). The browser-level version through the worker is not here yet.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConversationEntry } from '../../src/core/protocol.ts';
import { apiPaths } from '../../src/core/server-api.ts';
import { createHarness, exchange, openEvents, request } from './helpers.ts';
import { openFrontDoor, type FrontDoor } from '../../src/testing/front-door.ts';
import { startServerProcess, type ServerProcess } from './server-process.ts';

let harness: Awaited<ReturnType<typeof createHarness>>;
let processes: ServerProcess[] = [];
let proxy: FrontDoor | undefined;
beforeEach(async () => {
  harness = await createHarness();
});
afterEach(async () => {
  await proxy?.close();
  await Promise.all(processes.map((p) => p.kill()));
  processes = [];
  await harness.cleanup();
});

/**
 * Follows a conversation's events as tabwarden's worker does: on a cut stream it reconnects with
 * the last seq it saw as Last-Event-ID. Keeps every entry it received, in order of arrival.
 */
function follow(url: string, conversationId: string, accessToken: string) {
  const received: ConversationEntry[] = [];
  let connections = 0;
  let stopped = false;
  let current: Awaited<ReturnType<typeof openEvents>> | undefined;
  let waiter: { count: number; resolve: () => void } | undefined;
  const loop = (async () => {
    while (!stopped) {
      const last = received.at(-1)?.seq;
      let events;
      try {
        events = await openEvents({ url }, conversationId, accessToken, last);
        current = events;
        if (events.response.status !== 200) throw new Error(`status ${events.response.status}`);
        connections++;
        for (let event = await events.next(60_000); event && !stopped; event = await events.next(60_000)) {
          if (event.event !== 'entry') continue;
          received.push(event.data as ConversationEntry);
          if (waiter && received.length >= waiter.count) waiter.resolve();
        }
      } catch {
        // Cut mid-stream (the instance died) or refused: reconnect, as EventSource would.
      } finally {
        events?.close();
      }
    }
  })();
  return {
    received,
    get connections() {
      return connections;
    },
    /** Resolves once `count` entries arrived; rejects after `timeoutMs`. */
    until(count: number, timeoutMs = 20_000): Promise<void> {
      if (received.length >= count) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`only ${received.length} of ${count} entries within ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiter = {
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
      });
    },
    async stop() {
      stopped = true;
      current?.close();
      await loop;
    },
  };
}

/** Posts as the outbox does: a network failure or a 5xx is retried with the same client message id. */
async function deliver(url: string, accessToken: string, conversationId: string, id: string) {
  for (let attempt = 0; attempt < 10; attempt++) {
    try {
      const answer = await request({ url }, 'POST', apiPaths.messages(conversationId), {
        accessToken,
        body: { clientMessageId: id, text: `text of ${id}` },
      });
      if (answer.status < 500) return answer;
    } catch {
      // The connection was cut: retry.
    }
  }
  throw new Error(`${id} was not delivered in 10 attempts`);
}

describe('R15: two server processes on one Postgres behind a round-robin proxy', () => {
  it('exchange on one, stream from the other, post through either; one killed mid-stream: the stream resumes through the other, nothing lost or doubled', async () => {
    const env = {
      TABWARDEN_DATABASE: harness.database,
      TABWARDEN_ISSUER: harness.idp.issuer,
      TABWARDEN_JWKS: JSON.stringify(harness.idp.jwks),
      TABWARDEN_DATA_DIR: harness.dir,
      TABWARDEN_RATE_PER_ADDRESS: '0',
      TABWARDEN_RATE_PER_SUBJECT: '0',
      // The agent stays quiet: its replies are timers of the instance that took the message.
      TABWARDEN_AGENT_DELAY_MS: '600000',
      TABWARDEN_STATIC_DIR: '/nonexistent',
      TABWARDEN_BUNDLES_DIR: '/nonexistent',
    };
    processes = await Promise.all([startServerProcess(env), startServerProcess(env)]);
    const [a, b] = processes as [ServerProcess, ServerProcess];
    const door = await openFrontDoor([a.url, b.url]);
    proxy = door;
    const via = { url: door.url };
    // The requests an instance answered, in the order they arrived.
    const served = () => door.requests().filter((request) => request.backend !== undefined);

    const { accessToken } = await exchange(via, await harness.idp.mint({ sub: 'alice' }));
    const opened = await request(via, 'POST', apiPaths.conversations, { accessToken });
    expect(opened.status).toBe(201);
    const conversationId = opened.body.conversationId as string;
    const stream = follow(proxy.url, conversationId, accessToken);
    await stream.until(0);
    // Exchange, open and stream went to alternating instances.
    const [exchangedOn, openedOn] = served().map((s) => s.backend);
    expect(exchangedOn).toBe(a.url);
    expect(openedOn).toBe(b.url);

    for (let i = 1; i <= 6; i++) await deliver(proxy.url, accessToken, conversationId, `m${i}`);
    await stream.until(6);
    const streamedOn = served().find((s) => s.path.endsWith('/events'))?.backend;
    const posters = new Set(
      served()
        .filter((s) => s.path.endsWith('/messages'))
        .map((s) => s.backend),
    );
    expect(posters).toEqual(new Set([a.url, b.url]));

    // The instance holding the stream dies mid-stream (a crash: no goodbye), while posts go on.
    const victim = streamedOn === a.url ? a : b;
    const survivor = victim === a ? b : a;
    await victim.kill();
    for (let i = 7; i <= 12; i++) await deliver(proxy.url, accessToken, conversationId, `m${i}`);
    await stream.until(12);
    await stream.stop();

    expect(stream.connections).toBeGreaterThanOrEqual(2);
    const resumedOn = served()
      .filter((s) => s.path.endsWith('/events'))
      .at(-1)?.backend;
    expect(resumedOn).toBe(survivor.url);
    expect(stream.received.map((entry) => entry.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(stream.received.map((entry) => entry.clientMessageId)).toEqual(
      Array.from({ length: 12 }, (_, i) => `m${i + 1}`),
    );
    const stored = await request(via, 'GET', apiPaths.entries(conversationId), { accessToken });
    expect(stored.body.entries).toEqual(stream.received);
  }, 120_000);
});
