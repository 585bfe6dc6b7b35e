// Time to Ready: page load until the seed's `onEmbeddedMessagingReady`, on a first visit (no
// worker installed: a fresh browser context) and on a later visit (the same context navigates
// again, its worker installed and running). Baseline, in the same run and the same way: a page
// that registers a raw service worker, waits until it controls the page, and makes one round
// trip. Both pages time themselves from navigation start, on their own clock.
import type { Page } from 'playwright-core';
import type { BrowserEnv } from '../lib/browser-env.ts';
import { formatRatio, ms, verdict, type MetricResult } from '../lib/row.ts';
import { summarize } from '../lib/stats.ts';

const WARM_UP = 1;
const VISITS = 12;
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

/** A first visit in a fresh context, then later visits (new navigations of its tab). */
async function visits(env: BrowserEnv, url: string): Promise<{ first: number; later: number[] }> {
  const context = await env.browser.newContext();
  try {
    const page = await context.newPage();
    const first = await visit(page, url);
    const later: number[] = [];
    for (let i = 0; i < LATER_PER_FIRST; i++) later.push(await visit(page, url));
    return { first, later };
  } finally {
    await context.close();
  }
}

export async function measureTimeToReady(env: BrowserEnv): Promise<MetricResult> {
  const tabwardenUrl = env.url('ready.html', { issuer: env.server.issuer });
  const rawUrl = env.url('raw/ready.html');
  const first = { tabwarden: [] as number[], raw: [] as number[] };
  const later = { tabwarden: [] as number[], raw: [] as number[] };
  for (let i = 0; i < WARM_UP + VISITS; i++) {
    // Alternating which goes first, so neither always runs on a busier moment.
    const order = i % 2 === 0 ? (['tabwarden', 'raw'] as const) : (['raw', 'tabwarden'] as const);
    for (const kind of order) {
      const times = await visits(env, kind === 'tabwarden' ? tabwardenUrl : rawUrl);
      if (i < WARM_UP) continue;
      first[kind].push(times.first);
      later[kind].push(...times.later);
    }
  }

  const rows = (['first', 'later'] as const).map((when) => {
    const samples = when === 'first' ? first : later;
    const tw = summarize(samples.tabwarden);
    const base = summarize(samples.raw);
    const ratio = tw.p50 / base.p50;
    return {
      metric:
        when === 'first'
          ? 'time to Ready, first visit (worker installs)'
          : 'time to Ready, later visit (worker installed)',
      tabwarden: `p50 ${ms(tw.p50)}, p95 ${ms(tw.p95)}`,
      baseline: `raw register + 1 round trip: p50 ${ms(base.p50)}, p95 ${ms(base.p95)}`,
      ratio: formatRatio(ratio),
      target: when === 'first' ? 'report' : `p50 ≤ ${TARGET}× baseline p50`,
      verdict: when === 'first' ? ('report' as const) : verdict(ratio <= TARGET),
      samples:
        when === 'first'
          ? `${VISITS} fresh contexts each, after ${WARM_UP} warm-up`
          : `${VISITS * LATER_PER_FIRST} each (${LATER_PER_FIRST} per context), after ${WARM_UP} warm-up`,
    };
  });
  return {
    rows,
    data: {
      warmUp: WARM_UP,
      firstVisitMs: { tabwarden: summarize(first.tabwarden), raw: summarize(first.raw) },
      laterVisitMs: { tabwarden: summarize(later.tabwarden), raw: summarize(later.raw) },
    },
    notes: [
      'Time to Ready: navigation start (performance.now() = 0) until `onEmbeddedMessagingReady`, in a page that imports the module page stub (/bundles/tabwarden.js) and calls the seed facade’s init() on the service-worker transport. First visit: a fresh browser context (nothing installed, nothing cached); later visit: the same tab navigates to the page again, the worker installed and running. Baseline: a page that calls navigator.serviceWorker.register() for a raw worker (skipWaiting + clients.claim), waits for control, and makes one postMessage round trip on a fresh port.',
    ],
  };
}
