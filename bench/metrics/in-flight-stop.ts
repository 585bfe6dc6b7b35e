// A call in flight when the worker stops (R10): a tab starts the session, and while the
// exchange is on the wire (held by a proxy in front of the server) the browser stops the service
// worker (CDP ServiceWorker.stopAllWorkers). Timed from the stop to the call's answer: the tab
// must learn of the death, re-send, and the new worker must restore the tab and exchange again.
// Baseline, same run: the browser's own cold start of a raw worker (stop, then a round trip)
// plus the same start with the worker running (the exchange's own time, through the same proxy).
import type { Page } from 'playwright-core';
import { openFrontDoor } from '../../src/testing/front-door.ts';
import { openTabs, stopServiceWorker } from '../../src/testing/index.ts';
import { echoPage, tabwardenPage, type BrowserEnv } from '../lib/browser-env.ts';
import { waitForBench } from '../lib/page-api.ts';
import { formatRatio, ms, verdict, type MetricResult } from '../lib/row.ts';
import { summarize } from '../lib/stats.ts';

const WARM_UP = 3;
const STOPS = 30;
const EXCHANGE = 'POST /v1/authorization';

export async function measureInFlightStop(env: BrowserEnv): Promise<MetricResult> {
  const proxy = await openFrontDoor(env.server.url);
  const context = await env.browser.newContext();
  const rawContext = await env.browser.newContext();
  try {
    const query = new URLSearchParams({ issuer: env.server.issuer });
    const [tab] = (await openTabs(context, 1, `${proxy.url}/tabwarden.html?${query}`)) as [Page];
    await waitForBench(tab);
    const [rawTab] = await env.openRawTabs(rawContext, 1);
    const tw = tabwardenPage(tab);
    const raw = echoPage(rawTab!);
    const token = await env.mint(3600);
    await tw('verify', token);

    const recovery: number[] = [];
    const exchange: number[] = [];
    const coldStart: number[] = [];
    let failures = 0;
    for (let i = 0; i < WARM_UP + STOPS; i++) {
      // The exchange's own time: a fresh session started with the worker running.
      await tw('clear');
      await tw('verify', token);
      let began = performance.now();
      await tw('start');
      const own = performance.now() - began;

      // The same start, with the worker stopped while the exchange is on the wire.
      await tw('clear');
      await tw('verify', token);
      const held = proxy.hold(EXCHANGE);
      const answered = tw('start').then(
        () => performance.now(),
        () => undefined,
      );
      await held.arrived();
      began = performance.now();
      await stopServiceWorker(tab);
      held.release();
      const at = await answered;

      await stopServiceWorker(rawTab!);
      const base = await raw('roundTrip');
      if (i < WARM_UP) continue;
      if (at === undefined) failures++;
      else recovery.push(at - began);
      exchange.push(own);
      coldStart.push(base);
    }

    const stopped = summarize(recovery);
    const own = summarize(exchange);
    const cold = summarize(coldStart);
    const baselineP95 = own.p95 + cold.p95;
    const ratio = stopped.p95 / baselineP95;
    return {
      rows: [
        {
          metric: 'a start in flight when the worker stops: stop → answer',
          tabwarden: `p50 ${ms(stopped.p50)}, p95 ${ms(stopped.p95)}, ${failures} failed`,
          baseline: `raw cold start p95 ${ms(cold.p95)} + the start's own time p95 ${ms(own.p95)} = ${ms(baselineP95)}`,
          ratio: formatRatio(ratio),
          target: 'p95 ≤ 2× baseline, 0 failures in ≥ 30 stops',
          verdict: verdict(ratio <= 2 && failures === 0 && STOPS >= 30),
          samples: `${STOPS} stops, after ${WARM_UP} warm-up`,
        },
      ],
      data: {
        stops: STOPS,
        warmUp: WARM_UP,
        failures,
        stopToAnswerMs: stopped,
        ownStartMs: own,
        coldStartMs: cold,
      },
      notes: [
        "In-flight stop: a tab with a cleared session and a verified token calls startConversation(); a proxy in front of the server holds the exchange; once it arrives, CDP ServiceWorker.stopAllWorkers (the kit's stopServiceWorker, which waits for \"stopped\"), then the proxy lets the held request go on. Timed in Node from the stop's start to the call's answer: the tab learns of the death when the stopped instance's Web Lock is granted to it, probes (which wakes a new worker), re-sends with its in-memory token, and the new worker exchanges again. Baseline: the raw worker's cold-start round trip plus the same start with the worker running, both p95, same run.",
      ],
    };
  } finally {
    await context.close();
    await rawContext.close();
    await proxy.close();
  }
}
