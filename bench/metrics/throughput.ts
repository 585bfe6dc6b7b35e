// Server exchange throughput: autocannon against POST /v1/authorization on 127.0.0.1, against
// a trivial endpoint of the same server (GET /healthz) and against jose's jwtVerify alone in
// Node (the signature check every exchange must do). The server runs in a child process.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon, { type Result } from 'autocannon';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { formatRatio, ms, verdict, type MetricResult } from '../lib/row.ts';

const SECONDS = 10;
const WARM_UP_SECONDS = 2;
const CONNECTIONS = 10;
const VERIFY_MS = 3000;

interface ServerInfo {
  url: string;
  issuer: string;
  jwks: JSONWebKeySet;
  tokens: string[];
}

async function startServerProcess(): Promise<{ child: ChildProcess; info: ServerInfo }> {
  const script = fileURLToPath(new URL('../throughput-server.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`throughput server exited with ${code} before it was ready`);
  });
  const ready = once(lines, 'line').then(([line]) => JSON.parse(line as string) as ServerInfo);
  const info = await Promise.race([ready, exited]);
  return { child, info };
}

async function stopServerProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

function load(info: ServerInfo, target: 'healthz' | 'exchange', duration: number): Promise<Result> {
  if (target === 'healthz') {
    return autocannon({ url: `${info.url}/healthz`, connections: CONNECTIONS, duration });
  }
  return autocannon({
    url: `${info.url}/v1/authorization`,
    connections: CONNECTIONS,
    duration,
    requests: info.tokens.map((identityToken) => ({
      method: 'POST',
      path: '/v1/authorization',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ identityToken }),
    })),
  });
}

/** jose's jwtVerify in a loop, one after another, for a fixed time (after a warm-up). */
async function verifyRate(info: ServerInfo): Promise<number> {
  const keys = createLocalJWKSet(info.jwks);
  const verifyOne = (i: number) =>
    jwtVerify(info.tokens[i % info.tokens.length]!, keys, { issuer: info.issuer, algorithms: ['RS256'] });
  for (let i = 0; i < 500; i++) await verifyOne(i);
  let count = 0;
  const started = performance.now();
  while (performance.now() - started < VERIFY_MS) await verifyOne(count++);
  return count / ((performance.now() - started) / 1000);
}

const rate = (result: Result) => result['2xx'] / result.duration;
const failures = (result: Result) => result.non2xx + result.errors + result.timeouts;

export async function measureThroughput(): Promise<MetricResult> {
  const { child, info } = await startServerProcess();
  let healthz: Result;
  let exchange: Result;
  try {
    await load(info, 'healthz', WARM_UP_SECONDS);
    healthz = await load(info, 'healthz', SECONDS);
    await load(info, 'exchange', WARM_UP_SECONDS);
    exchange = await load(info, 'exchange', SECONDS);
  } finally {
    await stopServerProcess(child);
  }
  const verifyPerSecond = await verifyRate(info);

  const ratio = rate(exchange) / rate(healthz);
  const failed = failures(exchange) + failures(healthz);
  const perSecond = (value: number) => `${Math.round(value).toLocaleString('en-US')}/s`;
  const samples = `${SECONDS} s each, ${CONNECTIONS} connections, after ${WARM_UP_SECONDS} s warm-up`;
  return {
    rows: [
      {
        metric: 'server exchanges per second',
        tabwarden: `${perSecond(rate(exchange))}${failed ? `, ${failed} failed` : ''}`,
        baseline: `GET /healthz: ${perSecond(rate(healthz))}; jose jwtVerify alone: ${perSecond(verifyPerSecond)}`,
        ratio: formatRatio(ratio),
        target: '≥ 0.5× /healthz',
        verdict: verdict(ratio >= 0.5 && failed === 0),
        samples,
      },
      {
        metric: 'server exchange latency p99',
        tabwarden: ms(exchange.latency.p99),
        baseline: `GET /healthz: ${ms(healthz.latency.p99)}`,
        ratio: formatRatio(exchange.latency.p99 / healthz.latency.p99),
        target: 'p99 ≤ 20 ms',
        verdict: verdict(exchange.latency.p99 <= 20),
        samples,
      },
    ],
    data: {
      seconds: SECONDS,
      connections: CONNECTIONS,
      exchange: summary(exchange),
      healthz: summary(healthz),
      jwtVerifyPerSecond: Math.round(verifyPerSecond),
    },
    notes: [
      `Throughput: the reference server in a child process (rate limits off, in-memory SQLite, 64 distinct identity tokens in turn), autocannon in the bench process: ${CONNECTIONS} connections, ${SECONDS} s per endpoint after ${WARM_UP_SECONDS} s of warm-up, over 127.0.0.1. jose jwtVerify alone: RS256 tokens against a local JWKS, one after another for ${VERIFY_MS / 1000} s — the verification each exchange needs, without HTTP, signing or storage.`,
    ],
  };
}

function summary(result: Result) {
  return {
    perSecond: Math.round(rate(result)),
    total2xx: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
    },
  };
}
