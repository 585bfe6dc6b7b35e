// Recovery after a service-worker stop: stop the worker the way an idle browser does (CDP
// ServiceWorker.stopAllWorkers), then time the next sendMessage() round trip, which wakes a
// fresh worker that restores the session from IndexedDB (R10). Baseline: the same stop and
// next call against a raw service worker, i.e. the browser's own cold start.
import { echoPage, tabwardenPage, type BrowserEnv } from '../lib/browser-env.ts';
import { formatRatio, ms, verdict, type MetricResult } from '../lib/row.ts';
import { summarize } from '../lib/stats.ts';
import { stopServiceWorker } from '../../src/testing/index.ts';

const WARM_UP = 3;
const STOPS = 40;
const WARM_SENDS = 20;

export async function measureRecovery(env: BrowserEnv): Promise<MetricResult> {
  const context = await env.browser.newContext();
  const rawContext = await env.browser.newContext();
  try {
    const [tab] = await env.openTabwardenTabs(context, 1);
    const [rawTab] = await env.openRawTabs(rawContext, 1);
    const tw = tabwardenPage(tab!);
    const raw = echoPage(rawTab!);
    await tw('verify', await env.mint(3600));
    await tw('start');

    // For scale: the same call with the worker running (one HTTP round trip to the server).
    const warm: number[] = [];
    for (let i = 0; i < WARM_SENDS + 5; i++) {
      const elapsed = await tw('timeSend', `warm ${i}`);
      if (i >= 5) warm.push(elapsed);
    }

    const recovery: number[] = [];
    const coldStart: number[] = [];
    let failures = 0;
    for (let i = 0; i < WARM_UP + STOPS; i++) {
      await stopServiceWorker(tab!);
      const elapsed = await tw('timeSend', `after stop ${i}`).catch(() => undefined);
      await stopServiceWorker(rawTab!);
      const base = await raw('roundTrip');
      if (i < WARM_UP) continue;
      if (elapsed === undefined) failures++;
      else recovery.push(elapsed);
      coldStart.push(base);
    }

    const tw95 = summarize(recovery);
    const base = summarize(coldStart);
    const ratio = tw95.p95 / base.p95;
    return {
      rows: [
        {
          metric: 'sendMessage after a worker stop',
          tabwarden: `p50 ${ms(tw95.p50)}, p95 ${ms(tw95.p95)}, ${failures} failed`,
          baseline: `raw worker cold start round trip: p50 ${ms(base.p50)}, p95 ${ms(base.p95)}`,
          ratio: formatRatio(ratio),
          target: `p95 ≤ 3× baseline p95, 0 failures in ≥ 30 stops`,
          verdict: verdict(ratio <= 3 && failures === 0 && STOPS >= 30),
          samples: `${STOPS} stops each, after ${WARM_UP} warm-up`,
        },
      ],
      data: {
        stops: STOPS,
        warmUp: WARM_UP,
        failures,
        recoveryMs: tw95,
        coldStartMs: base,
        warmSendMs: summarize(warm),
      },
      notes: [
        `Recovery: one tab with an open conversation; CDP ServiceWorker.stopAllWorkers (the testing kit's stopServiceWorker, which waits for 'stopped'), then sendMessage() timed in the page; the call wakes a fresh worker, which restores the session from IndexedDB and verifies the in-memory token the call brings (R10) with keys it fetched while its store opened. For scale, sendMessage with the worker running: p50 ${ms(summarize(warm).p50)} (${WARM_SENDS} sends). Baseline: the same stop, then postMessage(ping, [port]) to a raw service worker until it answers.`,
      ],
    };
  } finally {
    await context.close();
    await rawContext.close();
  }
}
