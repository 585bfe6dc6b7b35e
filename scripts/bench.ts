// `npm run bench`: builds the bundles (`npm run build`), measures every metric of issue #5 with
// its baseline in the same run, prints one table, and writes the figures to
// bench/results/<time>.json and bench/results/latest.json. A missed target is printed as a
// miss; the exit code is non-zero only when something crashed.
//
//   npm run bench                       everything
//   npm run bench -- size throughput    some metrics (ids below; latest.json is left alone)
//   npm run bench -- --no-build         reuse dist/ as it is
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBrowserEnv, type BrowserEnv } from '../bench/lib/browser-env.ts';
import { describeMachine, formatMachine } from '../bench/lib/machine.ts';
import { formatTable } from '../bench/lib/print-table.ts';
import type { MetricResult, Row } from '../bench/lib/row.ts';
import { measureBundleSize } from '../bench/metrics/bundle-size.ts';
import { measureExchanges } from '../bench/metrics/exchanges.ts';
import { measureFirstRender } from '../bench/metrics/first-render.ts';
import { measureInFlightStop } from '../bench/metrics/in-flight-stop.ts';
import { measureLiveEntries } from '../bench/metrics/live-entries.ts';
import { measureMemory } from '../bench/metrics/memory.ts';
import { measureOutboxDrain } from '../bench/metrics/outbox-drain.ts';
import { measureEnginePropagation } from '../bench/metrics/engine-propagation.ts';
import { measurePropagation } from '../bench/metrics/propagation.ts';
import { measureRecovery } from '../bench/metrics/recovery.ts';
import { measureScaleOut } from '../bench/metrics/scale-out.ts';
import { measureThroughput } from '../bench/metrics/throughput.ts';
import { measureTimeToReady } from '../bench/metrics/time-to-ready.ts';

interface Metric {
  id: string;
  run(env: () => Promise<BrowserEnv>): Promise<MetricResult>;
  /** Its own limit, for a metric that starts a browser, a database or processes of its own. */
  limitMs?: number;
}

// Node-only metrics first, while no browser competes for the two cores.
const METRICS: Metric[] = [
  { id: 'size', run: () => measureBundleSize() },
  { id: 'throughput', run: () => measureThroughput() },
  { id: 'scale-out', run: () => measureScaleOut(), limitMs: 10 * 60_000 },
  { id: 'propagation', run: async (env) => measurePropagation(await env()) },
  // The same rows in the other engines, each with its own baseline (its own browser).
  { id: 'propagation-firefox', run: () => measureEnginePropagation('firefox'), limitMs: 8 * 60_000 },
  { id: 'propagation-webkit', run: () => measureEnginePropagation('webkit'), limitMs: 8 * 60_000 },
  { id: 'first-render', run: async (env) => measureFirstRender(await env()) },
  { id: 'time-to-ready', run: async (env) => measureTimeToReady(await env()) },
  { id: 'exchanges', run: async (env) => measureExchanges(await env()) },
  { id: 'recovery', run: async (env) => measureRecovery(await env()) },
  { id: 'in-flight-stop', run: async (env) => measureInFlightStop(await env()) },
  { id: 'live-entries', run: async (env) => measureLiveEntries(await env()), limitMs: 10 * 60_000 },
  { id: 'outbox-drain', run: async (env) => measureOutboxDrain(await env()) },
  { id: 'memory', run: async (env) => measureMemory(await env()) },
];
// A metric that runs longer than this has hung: it is reported as an error, the run goes on.
const METRIC_LIMIT_MS = 4 * 60_000;

const args = process.argv.slice(2);
const chosen = args.filter((arg) => !arg.startsWith('--'));
const unknown = chosen.filter((id) => !METRICS.some((metric) => metric.id === id));
if (unknown.length > 0) {
  console.error(`unknown metric ${unknown.join(', ')}; known: ${METRICS.map((m) => m.id).join(', ')}`);
  process.exit(2);
}
const selected = METRICS.filter((metric) => chosen.length === 0 || chosen.includes(metric.id));

const startedAt = new Date();
const machine = describeMachine();
if (!args.includes('--no-build')) {
  console.error('▸ npm run build');
  const built = spawnSync('npm', ['run', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (built.status !== 0) {
    console.error('bench: npm run build failed');
    process.exit(1);
  }
}

let browserEnv: Promise<BrowserEnv> | undefined;
const env = () => (browserEnv ??= startBrowserEnv());
const rows: Row[] = [];
const notes: string[] = [];
const figures: Record<string, unknown> = {};
const errors: Record<string, string> = {};
try {
  for (const metric of selected) {
    const began = performance.now();
    console.error(`▸ ${metric.id}`);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const limitMs = metric.limitMs ?? METRIC_LIMIT_MS;
    try {
      const limit = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no result within ${limitMs / 1000} s`)), limitMs);
      });
      const result = await Promise.race([metric.run(env), limit]);
      rows.push(...result.rows);
      notes.push(...result.notes);
      figures[metric.id] = result.data;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      errors[metric.id] = message;
      rows.push({
        metric: metric.id,
        tabwarden: '—',
        baseline: '—',
        ratio: '—',
        target: '—',
        verdict: 'error',
        samples: message.split('\n')[0]!.slice(0, 100),
      });
      console.error(error);
    } finally {
      clearTimeout(timer);
    }
    console.error(`  ${((performance.now() - began) / 1000).toFixed(0)} s`);
  }
  if (browserEnv) machine.chromium = (await browserEnv).browser.version();
} finally {
  if (browserEnv) await (await browserEnv).close();
}

machine.loadAverage.end = Number(loadavg()[0]!.toFixed(2));
const seconds = Math.round((Date.now() - startedAt.getTime()) / 1000);
const misses = rows.filter((row) => row.verdict === 'MISS').length;
console.log(`\ntabwarden bench — ${startedAt.toISOString()}, ${seconds} s\n${formatMachine(machine)}\n`);
console.log(formatTable(rows));
console.log(
  `\n${misses} target${misses === 1 ? '' : 's'} missed; figures are medians/percentiles over the samples stated, after warm-up.\n`,
);
for (const note of notes) console.log(`- ${note}`);

const report = {
  startedAt: startedAt.toISOString(),
  seconds,
  command: 'npm run bench',
  machine,
  rows,
  notes,
  figures,
  errors,
};
const resultsDir = fileURLToPath(new URL('../bench/results/', import.meta.url));
const file = `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`;
mkdirSync(resultsDir, { recursive: true });
writeFileSync(join(resultsDir, file), `${JSON.stringify(report, null, 2)}\n`);
// latest.json (committed) only ever holds a complete run.
const complete = selected.length === METRICS.length;
if (complete) writeFileSync(join(resultsDir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
console.log(`\nwritten: bench/results/${file}${complete ? ', bench/results/latest.json' : ''}`);
process.exit(Object.keys(errors).length > 0 ? 1 : 0);
