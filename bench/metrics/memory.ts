// Memory: the service worker's heap after 1,000 messages in a conversation, and the heap of an
// idle verified tab, against an empty worker and an empty page; then a leak check — heap of
// both after each of 10 clear/start cycles must not keep growing.
import { echoPage, tabwardenPage, type BrowserEnv } from '../lib/browser-env.ts';
import { pageHeap, workerHeap } from '../lib/heap.ts';
import { formatRatio, ms, verdict, type MetricResult } from '../lib/row.ts';
import { summarize } from '../lib/stats.ts';
import { attachToServiceWorker } from '../lib/worker-target.ts';
import { openTabs } from '../../src/testing/index.ts';

const MESSAGES = 1000;
const WARM_CYCLES = 15;
const CYCLES = 10;
// Heap figures after GC still move by a few KiB (JIT code, inline caches, lazy feedback): a
// leak grows with every cycle, noise does not. Growth under this over 10 cycles counts as none.
const LEAK_TOLERANCE_BYTES = 32 * 1024;
// A send slower than this stalled (the worker answered nothing until a timeout and a retry).
const STALL_MS = 1000;

const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
const signedKib = (bytes: number) => `${bytes >= 0 ? '+' : '−'}${kib(Math.abs(bytes))}`;

export async function measureMemory(env: BrowserEnv): Promise<MetricResult> {
  const context = await env.browser.newContext();
  const rawContext = await env.browser.newContext();
  try {
    // Baselines: an empty page, and a raw service worker that only answers.
    const [empty] = await openTabs(rawContext, 1, env.url('empty.html'));
    const emptyPage = await pageHeap(empty!);
    const [rawTab] = await env.openRawTabs(rawContext, 1);
    await echoPage(rawTab!)('roundTrip');
    const rawWorker = await attachToServiceWorker(env.browser, '/raw/echo-sw.js');
    const emptyWorker = await workerHeap(rawWorker).finally(() => rawWorker.detach());

    const [tab] = await env.openTabwardenTabs(context, 1);
    const tw = tabwardenPage(tab!);
    const token = await env.mint(3600);
    await tw('verify', token);
    await tw('start');
    const idleTab = await pageHeap(tab!);
    // Attached, the worker is not stopped for idleness while it is measured.
    const worker = await attachToServiceWorker(env.browser, '/bundles/tabwarden-sw.js');
    try {
      const workerStarted = await workerHeap(worker);
      const sends = await tw('sendMany', MESSAGES, 'memory');
      const workerAfter = await workerHeap(worker);
      const stalls = sends.filter((took) => took > STALL_MS);
      const sendMs = summarize(sends);

      const cycleHeaps: Array<{ worker: number; page: number }> = [];
      for (let i = 0; i < WARM_CYCLES + CYCLES; i++) {
        await tw('clear');
        await tw('verify', token);
        await tw('start');
        await tw('timeSend', `cycle ${i}`);
        if (i >= WARM_CYCLES - 1)
          cycleHeaps.push({ worker: await workerHeap(worker), page: await pageHeap(tab!) });
      }
      const first = cycleHeaps[0]!;
      const last = cycleHeaps.at(-1)!;
      const growth = { worker: last.worker - first.worker, page: last.page - first.page };
      const noLeak = growth.worker <= LEAK_TOLERANCE_BYTES && growth.page <= LEAK_TOLERANCE_BYTES;

      return {
        rows: [
          {
            metric: `worker heap after ${MESSAGES} messages`,
            tabwarden: `${kib(workerAfter)} (${kib(workerStarted)} before)`,
            baseline: `empty service worker: ${kib(emptyWorker)}`,
            ratio: formatRatio(workerAfter / emptyWorker),
            target: 'report',
            verdict: 'report',
            samples: 'after GC',
          },
          {
            metric: 'page heap, idle verified tab',
            tabwarden: kib(idleTab),
            baseline: `empty page: ${kib(emptyPage)}`,
            ratio: formatRatio(idleTab / emptyPage),
            target: 'report',
            verdict: 'report',
            samples: 'after GC',
          },
          {
            metric: `heap growth over ${CYCLES} clear/start cycles`,
            tabwarden: `worker ${signedKib(growth.worker)}, page ${signedKib(growth.page)}`,
            baseline: '0 (no growth)',
            ratio: '—',
            target: `no growth (≤ ${kib(LEAK_TOLERANCE_BYTES)} noise)`,
            verdict: verdict(noLeak),
            samples: `${CYCLES} cycles after ${WARM_CYCLES} warm-up`,
          },
        ],
        data: {
          bytes: { emptyPage, emptyWorker, idleTab, workerStarted, workerAfter },
          messages: MESSAGES,
          sendMs,
          stalledSends: stalls.map((took) => Math.round(took)),
          cycles: cycleHeaps,
          growth,
          leakToleranceBytes: LEAK_TOLERANCE_BYTES,
        },
        notes: [
          `Memory: JS heap in use after two forced GCs (CDP HeapProfiler.collectGarbage, Runtime.getHeapUsage), for the service worker through its own DevTools target. Worker: one tab sends ${MESSAGES} messages one after another in one conversation. Page: the page stub (no UI) verified with an open conversation, idle. Leak check: ${CYCLES} cycles of clearSession → setIdentityToken → startConversation → sendMessage; growth = heap after the ${CYCLES}th measured cycle minus heap before them (after ${WARM_CYCLES} warm-up cycles).`,
          `The ${MESSAGES} sends took p50 ${ms(sendMs.p50)}, p95 ${ms(sendMs.p95)}; ${stalls.length} stalled over ${STALL_MS / 1000} s${stalls.length ? ` (${stalls.map((took) => `${(took / 1000).toFixed(1)} s`).join(', ')})` : ''}.`,
        ],
      };
    } finally {
      await worker.detach();
    }
  } finally {
    await context.close();
    await rawContext.close();
  }
}
