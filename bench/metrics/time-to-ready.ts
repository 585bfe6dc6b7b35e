// Time to Ready: page load until the seed's `onEmbeddedMessagingReady`, on a first visit (no
// worker installed: a fresh browser context), on a later visit (the same tab navigates again, its
// worker installed and running) and on a later visit after the browser stopped the idle worker.
// Baseline, in the same run and the same way: a page that registers a raw service worker, waits
// until it controls the page, and makes one round trip. Both pages time themselves from
// navigation start, on their own clock.
import type { Page } from 'playwright-core';
import { stopServiceWorker } from '../../src/testing/index.ts';
import type { BrowserEnv } from '../lib/browser-env.ts';
import { formatRatio, ms, verdict, type MetricResult } from '../lib/row.ts';
import { summarize } from '../lib/stats.ts';

const WARM_UP = 1;
const VISITS = 10;
const LATER_PER_FIRST = 2;
const TARGET = 1.5;

/** Navigates `page` to `url` and answers the page's own navigation-start → ready time. */
async function visit(page: Page, url: string): Promise<number> {
  await page.goto(url);
  const handle = await page.waitForFunction(
    () => (window as unknown as { readyAt?: number }).readyAt,
    undefined,
    { timeout: 15_000, polling: 5 },
  );
  const transport = await page.evaluate(() => (window as unknown as { transport?: string }).transport);
  if (transport !== undefined && transport !== 'service-worker') {
    throw new Error(`expected the service-worker transport, got ${transport}`);
  }
  return (await handle.jsonValue()) as number;
}

interface Visits {
  first: number[];
  later: number[];
  /** Later visits after CDP stopped the worker, as a browser stops an idle one. */
  stopped: number[];
}

/** A first visit in a fresh context, later visits of its tab, and one after a worker stop. */
async function visitSeries(env: BrowserEnv, url: string, into: Visits): Promise<void> {
  const context = await env.browser.newContext();
  try {
    const page = await context.newPage();
    into.first.push(await visit(page, url));
    for (let i = 0; i < LATER_PER_FIRST; i++) into.later.push(await visit(page, url));
    await stopServiceWorker(page);
    into.stopped.push(await visit(page, url));
  } finally {
    await context.close();
  }
}

export async function measureTimeToReady(env: BrowserEnv): Promise<MetricResult> {
  const tabwardenUrl = env.url('ready.html', { issuer: env.server.issuer });
  const rawUrl = env.url('raw/ready.html');
  const samples = {
    tabwarden: { first: [], later: [], stopped: [] } as Visits,
    raw: { first: [], later: [], stopped: [] } as Visits,
  };
  for (let i = 0; i < WARM_UP + VISITS; i++) {
    // Alternating which goes first, so neither always runs on a busier moment.
    const order = i % 2 === 0 ? (['tabwarden', 'raw'] as const) : (['raw', 'tabwarden'] as const);
    for (const kind of order) {
      const into = i < WARM_UP ? { first: [], later: [], stopped: [] } : samples[kind];
      await visitSeries(env, kind === 'tabwarden' ? tabwardenUrl : rawUrl, into);
    }
  }

  const describe = {
    first: ['time to Ready, first visit (worker installs)', `${VISITS} fresh contexts each`],
    later: [
      'time to Ready, later visit (worker installed, running)',
      `${VISITS * LATER_PER_FIRST} each (${LATER_PER_FIRST} per context)`,
    ],
    stopped: ['time to Ready, later visit (worker installed, stopped)', `${VISITS} each (1 per context)`],
  } as const;
  const rows = (['first', 'later', 'stopped'] as const).map((when) => {
    const tw = summarize(samples.tabwarden[when]);
    const base = summarize(samples.raw[when]);
    const ratio = tw.p50 / base.p50;
    const judged = when === 'later';
    return {
      metric: describe[when][0],
      tabwarden: `p50 ${ms(tw.p50)}, p95 ${ms(tw.p95)}`,
      baseline: `raw register + 1 round trip: p50 ${ms(base.p50)}, p95 ${ms(base.p95)}`,
      ratio: formatRatio(ratio),
      target: judged ? `p50 ≤ ${TARGET}× baseline p50` : 'report',
      verdict: judged ? verdict(ratio <= TARGET) : ('report' as const),
      samples: `${describe[when][1]}, after ${WARM_UP} warm-up`,
    };
  });
  return {
    rows,
    data: {
      warmUp: WARM_UP,
      ...Object.fromEntries(
        (['first', 'later', 'stopped'] as const).map((when) => [
          `${when}VisitMs`,
          { tabwarden: summarize(samples.tabwarden[when]), raw: summarize(samples.raw[when]) },
        ]),
      ),
    },
    notes: [
      'Time to Ready: navigation start (performance.now() = 0) until `onEmbeddedMessagingReady`, in a page that imports the module page stub (/bundles/tabwarden.js) and calls the seed facade’s init() on the service-worker transport. First visit: a fresh browser context (nothing installed, nothing cached); later visit: the same tab navigates to the page again, the worker installed and running; stopped: the same after CDP ServiceWorker.stopAllWorkers, as a browser stops an idle worker. Baseline: a page that calls navigator.serviceWorker.register() for a raw worker (skipWaiting + clients.claim), waits for control, and makes one postMessage round trip on a fresh port.',
    ],
  };
}
