// Identity-token exchanges reaching the server when N tabs click the conversation button at
// the same instant, against a naive client in which each tab exchanges for itself. Counted by
// the server as requests arrive (so a service worker's fetches count too).
import type { Page } from 'playwright-core';
import { pause, tabwardenPage, type BrowserEnv } from '../lib/browser-env.ts';
import { pageCaller, pollPage, waitForBench, type NaivePageApi } from '../lib/page-api.ts';
import { verdict, type MetricResult, type Row } from '../lib/row.ts';
import { openTabs } from '../../src/testing/index.ts';

const TAB_COUNTS = [1, 5, 10, 20];
// Every tab clicks at this long after the driver schedules it, on the tabs' shared clock.
const CLICK_DELAY_MS = 300;
// After the last tab saw its conversation, anything late would still be counted.
const LATE_MS = 300;

/** Schedules a click in every tab (either page) at one instant on the tabs' shared clock. */
async function clickAtOnce(tabs: Page[]): Promise<void> {
  const at = (await pageCaller<NaivePageApi>(tabs[0]!)('now')) + CLICK_DELAY_MS;
  await Promise.all(tabs.map((tab) => pageCaller<NaivePageApi>(tab)('clickAt', at)));
}

async function countTabwarden(env: BrowserEnv, count: number): Promise<number> {
  const context = await env.browser.newContext();
  try {
    const tabs = await env.openTabwardenTabs(context, count, { ui: true });
    const token = await env.mint(3600);
    await Promise.all(tabs.map((tab) => tabwardenPage(tab)('verify', token)));
    const before = env.server.exchangeCount();
    await clickAtOnce(tabs);
    await Promise.all(tabs.map((tab) => pollPage(tab, 'firstAfter', ['session-started', 0], 20_000)));
    await pause(LATE_MS);
    return env.server.exchangeCount() - before;
  } finally {
    await context.close();
  }
}

async function countNaive(env: BrowserEnv, count: number): Promise<number> {
  const context = await env.browser.newContext();
  try {
    const tabs = await openTabs(context, count, env.url('naive.html'));
    await Promise.all(tabs.map((tab) => waitForBench(tab)));
    const token = await env.mint(3600);
    await Promise.all(tabs.map((tab) => pageCaller<NaivePageApi>(tab)('verify', token)));
    const before = env.server.exchangeCount();
    await clickAtOnce(tabs);
    await Promise.all(tabs.map((tab) => pollPage(tab, 'started', [], 20_000)));
    await pause(LATE_MS);
    return env.server.exchangeCount() - before;
  } finally {
    await context.close();
  }
}

export async function measureExchanges(env: BrowserEnv): Promise<MetricResult> {
  const rows: Row[] = [];
  const counts: Record<string, { tabwarden: number; naive: number }> = {};
  for (const n of TAB_COUNTS) {
    const tabwarden = await countTabwarden(env, n);
    const naive = await countNaive(env, n);
    counts[n] = { tabwarden, naive };
    rows.push({
      metric: `exchanges when ${n} ${n > 1 ? 'tabs click' : 'tab clicks'} at once`,
      tabwarden: String(tabwarden),
      baseline: `naive per-tab client: ${naive}`,
      ratio: `${tabwarden}/${naive}`,
      target: 'exactly 1',
      verdict: verdict(tabwarden === 1),
      samples: 'count (1 run)',
    });
  }
  return {
    rows,
    data: { counts },
    notes: [
      `Exchanges: for each N, a fresh context with N tabs, each with a valid token; every tab clicks the conversation button at the same instant (scheduled on the shared clock); POST /v1/authorization counted at the server until every tab saw session-started, plus ${LATE_MS} ms. Naive: each tab POSTs its own exchange and opens the conversation.`,
    ],
  };
}
