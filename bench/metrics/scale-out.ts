// Scale-out (issue #13): server instances as real processes on one throwaway Postgres cluster
// (Postgres's default durability: fsync on). Measures a message posted on instance A delivered
// to a stream on instance B against the same message delivered to a stream on A; idle streams
// held by one instance and its RSS per stream; exchanges per second with one and two instances;
// messages posted per second (each a transaction and a NOTIFY).
import { readFileSync } from 'node:fs';
import { request as httpRequest, type ClientRequest } from 'node:http';
import autocannon, { type Result } from 'autocannon';
import { createTestIdentityProvider, type TestIdentityProvider } from '../../src/testing/index.ts';
import { exchange, openEvents, request } from '../../test/server/helpers.ts';
import { createDatabase, startPostgresCluster } from '../../test/server/postgres-cluster.ts';
import { startServerProcess, type ServerProcess } from '../../test/server/server-process.ts';
import { summarize } from '../lib/stats.ts';
import { formatRatio, ms, verdict, type MetricResult } from '../lib/row.ts';

const DELIVERY_SAMPLES = 100;
const DELIVERY_WARM_UP = 10;
const IDLE_STREAMS = 10_000;
const STREAM_SUBJECTS = 100;
const RSS_TARGET_MB = 300;
const LOAD_SECONDS = 5;
const WARM_UP_SECONDS = 2;
const CONNECTIONS = 10;

/** Resident set size of a process, in bytes (Linux). */
function rssOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? Number.NaN) * 1024;
}

function instanceEnv(database: string, idp: TestIdentityProvider, extra: Record<string, string> = {}) {
  return {
    TABWARDEN_DATABASE: database,
    TABWARDEN_ISSUER: idp.issuer,
    TABWARDEN_JWKS: JSON.stringify(idp.jwks),
    TABWARDEN_RATE_PER_ADDRESS: '0',
    TABWARDEN_RATE_PER_SUBJECT: '0',
    TABWARDEN_AGENT_DELAY_MS: '600000',
    TABWARDEN_STATIC_DIR: '/nonexistent',
    TABWARDEN_BUNDLES_DIR: '/nonexistent',
    TABWARDEN_DATA_DIR: '/tmp',
    ...extra,
  };
}

async function signIn(server: { url: string }, idp: TestIdentityProvider, sub: string) {
  const { accessToken } = await exchange(server, await idp.mint({ sub, expiresInSeconds: 3600 }));
  const { body } = await request(server, 'POST', '/v1/conversations', { accessToken });
  return { accessToken, conversationId: body.conversationId as string };
}

/** Each post through A: ms until its entry arrived on a stream on A, and on a stream on B. */
async function deliveryLatency(a: ServerProcess, b: ServerProcess, idp: TestIdentityProvider) {
  const { accessToken, conversationId } = await signIn(a, idp, 'latency');
  const onA = await openEvents(a, conversationId, accessToken);
  const onB = await openEvents(b, conversationId, accessToken);
  const sameInstance: number[] = [];
  const otherInstance: number[] = [];
  for (let i = 0; i < DELIVERY_WARM_UP + DELIVERY_SAMPLES; i++) {
    const started = performance.now();
    const arrivedA = onA.nextEntry(10_000).then(() => performance.now() - started);
    const arrivedB = onB.nextEntry(10_000).then(() => performance.now() - started);
    await request(a, 'POST', `/v1/conversations/${conversationId}/messages`, {
      accessToken,
      body: { clientMessageId: `m${i}`, text: `message ${i}` },
    });
    const [toA, toB] = await Promise.all([arrivedA, arrivedB]);
    if (i < DELIVERY_WARM_UP) continue;
    sameInstance.push(toA);
    otherInstance.push(toB);
  }
  onA.close();
  onB.close();
  return { sameInstance: summarize(sameInstance), otherInstance: summarize(otherInstance) };
}

/** Opens `count` idle event streams on `server` (raw sockets, nothing read after the headers). */
async function holdStreams(
  server: { url: string },
  sessions: Array<{ accessToken: string; conversationId: string }>,
  count: number,
) {
  const held: ClientRequest[] = [];
  const openOne = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const session = sessions[i % sessions.length]!;
      const req = httpRequest(`${server.url}/v1/conversations/${session.conversationId}/events`, {
        agent: false,
        headers: { authorization: `Bearer ${session.accessToken}` },
      });
      req.on('response', (response) => {
        if (response.statusCode !== 200) reject(new Error(`stream ${i}: status ${response.statusCode}`));
        else resolve();
      });
      req.on('error', reject);
      req.end();
      held.push(req);
    });
  let next = 0;
  // 200 openings in flight at a time: a busy instance's morning, not a SYN flood.
  await Promise.all(
    Array.from({ length: 200 }, async () => {
      while (next < count) await openOne(next++);
    }),
  );
  return { close: () => held.forEach((req) => req.destroy()) };
}

function exchangeLoad(url: string, tokens: string[], connections: number, duration: number): Promise<Result> {
  return autocannon({
    url: `${url}/v1/authorization`,
    connections,
    duration,
    requests: tokens.map((identityToken) => ({
      method: 'POST',
      path: '/v1/authorization',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ identityToken }),
    })),
  });
}

/** Exchanges per second over `urls` together, `CONNECTIONS` connections split between them. */
async function exchangesPerSecond(
  urls: string[],
  tokens: string[],
): Promise<{ perSecond: number; failed: number }> {
  const each = CONNECTIONS / urls.length;
  await Promise.all(urls.map((url) => exchangeLoad(url, tokens, each, WARM_UP_SECONDS)));
  const results = await Promise.all(urls.map((url) => exchangeLoad(url, tokens, each, LOAD_SECONDS)));
  return {
    perSecond: results.reduce((sum, r) => sum + r['2xx'] / r.duration, 0),
    failed: results.reduce((sum, r) => sum + r.non2xx + r.errors + r.timeouts, 0),
  };
}

/** Messages posted per second through one instance, each a new entry (a commit and a NOTIFY). */
async function postsPerSecond(server: { url: string }, idp: TestIdentityProvider) {
  const sessions = await Promise.all(
    Array.from({ length: CONNECTIONS }, (_, i) => signIn(server, idp, `poster-${i}`)),
  );
  let counter = 0;
  const run = (duration: number) =>
    autocannon({
      url: server.url,
      connections: CONNECTIONS,
      duration,
      requests: sessions.map((session) => ({
        method: 'POST',
        path: `/v1/conversations/${session.conversationId}/messages`,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${session.accessToken}` },
        setupRequest: (req) => ({
          ...req,
          body: JSON.stringify({ clientMessageId: `p${counter++}`, text: 'load' }),
        }),
      })),
    });
  await run(WARM_UP_SECONDS);
  const result = await run(LOAD_SECONDS);
  return {
    perSecond: result['2xx'] / result.duration,
    failed: result.non2xx + result.errors + result.timeouts,
    p99: result.latency.p99,
  };
}

export async function measureScaleOut(): Promise<MetricResult> {
  const cluster = await startPostgresCluster({ durable: true });
  const processes: ServerProcess[] = [];
  // If the runner gives up on this metric and exits, no server or database outlives it.
  const emergency = () => {
    for (const server of processes) server.child.kill('SIGKILL');
    cluster.stopNow();
  };
  process.once('exit', emergency);
  try {
    const idp = await createTestIdentityProvider({ issuer: 'https://idp.bench.test' });
    const database = await createDatabase(cluster.url, 'bench');
    const start = async (extra: Record<string, string> = {}) => {
      const server = await startServerProcess(instanceEnv(database, idp, extra));
      processes.push(server);
      return server;
    };
    const a = await start({ TABWARDEN_STREAMS_PER_TOKEN: String(IDLE_STREAMS / STREAM_SUBJECTS) });
    const b = await start();

    const delivery = await deliveryLatency(a, b, idp);

    const tokens = await Promise.all(
      Array.from({ length: 64 }, (_, i) => idp.mint({ sub: `user-${i}`, expiresInSeconds: 3600 })),
    );
    const one = await exchangesPerSecond([a.url], tokens);
    const two = await exchangesPerSecond([a.url, b.url], tokens);
    const posts = await postsPerSecond(a, idp);

    // Idle streams: B is stopped so A has the machine; RSS before and with the streams held.
    await b.stop();
    const sessions = await Promise.all(
      Array.from({ length: STREAM_SUBJECTS }, (_, i) => signIn(a, idp, `idle-${i}`)),
    );
    const pid = a.child.pid!;
    const rssBefore = rssOf(pid);
    const opened = performance.now();
    const streams = await holdStreams(a, sessions, IDLE_STREAMS);
    const openSeconds = (performance.now() - opened) / 1000;
    const rssWith = rssOf(pid);
    streams.close();
    const perStreamKiB = (rssWith - rssBefore) / IDLE_STREAMS / 1024;
    const rssMB = rssWith / 1024 / 1024;

    const ratio = delivery.otherInstance.p95 / delivery.sameInstance.p95;
    const perSecond = (value: number) => `${Math.round(value).toLocaleString('en-US')}/s`;
    return {
      rows: [
        {
          metric: 'message posted on instance A → stream on instance B (Postgres), p95',
          tabwarden: `p50 ${ms(delivery.otherInstance.p50)}, p95 ${ms(delivery.otherInstance.p95)}`,
          baseline: `stream on A itself: p50 ${ms(delivery.sameInstance.p50)}, p95 ${ms(delivery.sameInstance.p95)}`,
          ratio: formatRatio(ratio),
          target: 'p95 ≤ 2× one instance',
          verdict: verdict(ratio <= 2),
          samples: `${DELIVERY_SAMPLES} posts, after ${DELIVERY_WARM_UP} warm-up`,
        },
        {
          metric: `idle event streams held by one instance: RSS`,
          tabwarden: `${IDLE_STREAMS.toLocaleString('en-US')} streams: ${rssMB.toFixed(0)} MB, ${perStreamKiB.toFixed(1)} KiB per stream`,
          baseline: `same instance without them: ${(rssBefore / 1024 / 1024).toFixed(0)} MB`,
          ratio: formatRatio(rssWith / rssBefore),
          target: `${IDLE_STREAMS.toLocaleString('en-US')} streams < ${RSS_TARGET_MB} MB`,
          verdict: verdict(rssMB < RSS_TARGET_MB),
          samples: `1 run, opened in ${openSeconds.toFixed(1)} s`,
        },
        {
          metric: 'exchanges per second on Postgres, two instances',
          tabwarden: `${perSecond(two.perSecond)}${two.failed ? `, ${two.failed} failed` : ''}`,
          baseline: `one instance: ${perSecond(one.perSecond)}${one.failed ? `, ${one.failed} failed` : ''}`,
          ratio: formatRatio(two.perSecond / one.perSecond),
          target: 'report (2 cores shared by load and servers)',
          verdict: 'report',
          samples: `${LOAD_SECONDS} s each, ${CONNECTIONS} connections, after ${WARM_UP_SECONDS} s warm-up`,
        },
        {
          metric: 'messages posted per second on Postgres, one instance (a commit + NOTIFY each)',
          tabwarden: `${perSecond(posts.perSecond)}, p99 ${ms(posts.p99)}${posts.failed ? `, ${posts.failed} failed` : ''}`,
          baseline: '—',
          ratio: '—',
          target: 'report',
          verdict: 'report',
          samples: `${LOAD_SECONDS} s, ${CONNECTIONS} connections, after ${WARM_UP_SECONDS} s warm-up`,
        },
      ],
      data: {
        delivery,
        exchangesPerSecond: {
          one: Math.round(one.perSecond),
          two: Math.round(two.perSecond),
          failed: one.failed + two.failed,
        },
        postsPerSecond: Math.round(posts.perSecond),
        postsP99Ms: posts.p99,
        idleStreams: {
          count: IDLE_STREAMS,
          rssBeforeBytes: rssBefore,
          rssWithBytes: rssWith,
          perStreamKiB,
          openSeconds,
        },
      },
      notes: [
        `Scale-out: two server processes (src/server/main.ts) on one throwaway Postgres cluster (initdb, default durability), over 127.0.0.1. Delivery: each message is posted through A while one stream on A and one on B follow the conversation; both times run from just before the POST to the entry's arrival, so A's stream is the same path on one instance in the same run (on Postgres both hear it through LISTEN). Idle streams: ${IDLE_STREAMS.toLocaleString('en-US')} raw HTTP connections to A's event route (${STREAM_SUBJECTS} subjects × ${IDLE_STREAMS / STREAM_SUBJECTS} each, streams-per-token raised for it), B stopped; RSS from /proc. Exchanges: autocannon on A alone, then on A and B at once (connections split); they touch Postgres not at all (stateless tokens), so their rate is CPU-bound: on two cores shared by the load generator, both instances and other work, a second instance is not expected to double it. Posts: autocannon with a fresh client message id per request, ${CONNECTIONS} conversations.`,
      ],
    };
  } finally {
    process.off('exit', emergency);
    await Promise.all(processes.map((p) => p.kill()));
    await cluster.stop();
  }
}
