// Exchange throughput of the reference server on this machine: a bounded loop of
// POST /v1/authorization to 127.0.0.1 for a few seconds. Not part of `npm test`; run with
//   npx tsx test/server/bench-exchange.ts [seconds] [concurrency...]
// The bench suite (`npm run bench`) can import measureExchangeThroughput.
import { availableParallelism } from 'node:os';
import { startServer } from '../../src/server/index.ts';
import { createTestIdentityProvider } from '../../src/testing/index.ts';

/** One measurement. */
export interface ExchangeThroughput {
  concurrency: number;
  seconds: number;
  exchanges: number;
  perSecond: number;
  failures: number;
  /** Median latency of one exchange, in ms. */
  p50Ms: number;
  p99Ms: number;
}

/**
 * Starts a server (in-memory database, rate limits off), then runs `concurrency` loops of
 * exchanges for `durationMs` each time and reports what got through.
 *
 * @example
 * ```ts
 * const [result] = await measureExchangeThroughput({ durationMs: 3000, concurrencies: [8] });
 * console.log(`${result.perSecond} exchanges/s`);
 * ```
 */
export async function measureExchangeThroughput(options: {
  durationMs: number;
  concurrencies: number[];
}): Promise<ExchangeThroughput[]> {
  const idp = await createTestIdentityProvider({ issuer: 'https://idp.bench.test' });
  const server = await startServer({
    issuer: idp.issuer,
    jwks: idp.jwks,
    database: ':memory:',
    exchangesPerAddressPerMinute: 0,
    exchangesPerSubjectPerMinute: 0,
    staticDir: '/nonexistent',
    bundlesDir: '/nonexistent',
  });
  // Distinct tokens, as real clients would send; minted before the clock starts.
  const tokens = await Promise.all(
    Array.from({ length: 64 }, (_, i) => idp.mint({ sub: `user-${i}`, expiresInSeconds: 3600 })),
  );
  const url = `${server.url}/v1/authorization`;
  const exchangeOnce = async (i: number) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ identityToken: tokens[i % tokens.length] }),
    });
    await response.arrayBuffer();
    return response.status === 200;
  };
  try {
    // Warm-up: JIT, connection pool, key import.
    for (let i = 0; i < 50; i++) await exchangeOnce(i);
    const results: ExchangeThroughput[] = [];
    for (const concurrency of options.concurrencies) {
      const latencies: number[] = [];
      let failures = 0;
      let counter = 0;
      const started = performance.now();
      const deadline = started + options.durationMs;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (performance.now() < deadline) {
            const t0 = performance.now();
            const ok = await exchangeOnce(counter++);
            latencies.push(performance.now() - t0);
            if (!ok) failures++;
          }
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      latencies.sort((a, b) => a - b);
      const at = (q: number) => Number((latencies[Math.floor(q * (latencies.length - 1))] ?? 0).toFixed(2));
      results.push({
        concurrency,
        seconds: Number(seconds.toFixed(2)),
        exchanges: latencies.length - failures,
        perSecond: Math.round((latencies.length - failures) / seconds),
        failures,
        p50Ms: at(0.5),
        p99Ms: at(0.99),
      });
    }
    return results;
  } finally {
    await server.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const seconds = Number(process.argv[2] ?? 3);
  const concurrencies = process.argv.slice(3).map(Number);
  const results = await measureExchangeThroughput({
    durationMs: seconds * 1000,
    concurrencies: concurrencies.length > 0 ? concurrencies : [1, 8, 32],
  });
  console.log(
    `exchange throughput, ${availableParallelism()} CPUs, Node ${process.version}, one server process`,
  );
  console.table(results);
}
