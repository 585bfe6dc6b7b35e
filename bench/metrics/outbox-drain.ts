// Issue 10's outbox row (R12): 100 messages sent while the server is unreachable wait in the
// outbox; the network comes back; how long until the server has stored all 100. Baseline, in
// the same run: the same 100 messages posted from a page of the same origin with fetch, one after
// another (the outbox delivers in order, one at a time), with an authorization token the page
// exchanged itself — the same requests through the same browser network stack and the same front
// door, without the outbox. Both are timed the same way, in Node: from the moment delivery is set
// off until the server's own request log shows the 100th post answered 201 (stored).
import { openFrontDoor } from '../../src/testing/front-door.ts';
import { openTabs } from '../../src/testing/index.ts';
import { tabwardenPage, type BrowserEnv } from '../lib/browser-env.ts';
import { pageCaller, waitForBench, type DirectPageApi } from '../lib/page-api.ts';
import { formatRatio, ms, verdict, type MetricResult } from '../lib/row.ts';
import { summarize } from '../lib/stats.ts';

const MESSAGES = 100;
const WARM_UP = 1;
const RUNS = 5;
const TARGET = 1.5;
const STORED_WITHIN_MS = 60_000;
const MESSAGE_ROUTE = 'POST /v1/conversations/:id/messages';

const isMessagePost = (request: { method: string; path: string }) =>
  request.method === 'POST' && /^\/v1\/conversations\/[^/]+\/messages$/.test(request.path);

/**
 * Sets off delivery with `start` and resolves the ms until the server has answered `count` more
 * message posts with 201 (stored), and how many were answered otherwise (200: a duplicate).
 */
async function timeUntilStored(
  env: BrowserEnv,
  count: number,
  start: () => Promise<unknown>,
): Promise<{ elapsed: number; duplicates: number }> {
  const from = env.server.requests().length;
  const since = () => env.server.requests().slice(from).filter(isMessagePost);
  const began = performance.now();
  const started = start();
  // Polled on the server's log each millisecond: the figure is hundreds of ms.
  for (;;) {
    if (since().filter((request) => request.status === 201).length >= count) break;
    if (performance.now() - began > STORED_WITHIN_MS) {
      throw new Error(`outbox-drain: ${count} messages not stored within ${STORED_WITHIN_MS / 1000} s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  const elapsed = performance.now() - began;
  await started;
  return { elapsed, duplicates: since().filter((request) => request.status === 200).length };
}

export async function measureOutboxDrain(env: BrowserEnv): Promise<MetricResult> {
  // Both pages reach the server through a front door that can cut the messages route: the
  // bench's browser leaves service workers' requests alone (PLAYWRIGHT_DISABLE_SERVICE_WORKER_NETWORK),
  // so a context's offline switch would not reach the worker.
  const door = await openFrontDoor(env.server.url);
  const context = await env.browser.newContext();
  const baselineContext = await env.browser.newContext();
  try {
    const [tab] = await openTabs(
      context,
      1,
      `${door.url}/tabwarden.html?issuer=${encodeURIComponent(env.server.issuer)}`,
    );
    await waitForBench(tab!);
    const tw = tabwardenPage(tab!);
    await tw('verify', await env.mint(3600));
    await tw('start');
    const [directTab] = await openTabs(baselineContext, 1, `${door.url}/direct.html`);
    await waitForBench(directTab!);
    const direct = pageCaller<DirectPageApi>(directTab!);
    await direct('setup', await env.mint(3600));

    const drain: number[] = [];
    const posts: number[] = [];
    const queueing: number[] = [];
    let duplicates = 0;
    for (let run = 0; run < WARM_UP + RUNS; run++) {
      // tabwarden: the messages route cut, 100 sends that each answer pending; then the route
      // heals and the browser says the network is back (its 'online' event, which the page stub
      // passes to the worker): the worker delivers the outbox.
      door.setFault(MESSAGE_ROUTE, { kind: 'cut' });
      const queuedAt = performance.now();
      const statuses = await tw('queue', MESSAGES, `queued ${run}`);
      const queued = performance.now() - queuedAt;
      if (statuses.some((status) => status !== 'pending')) {
        throw new Error(`outbox-drain: expected every send to answer pending, got ${statuses.join()}`);
      }
      const delivered = await timeUntilStored(env, MESSAGES, () => {
        door.heal();
        return tab!.evaluate(() => dispatchEvent(new Event('online')));
      });

      // Baseline: the same 100 posts straight from a page.
      const posted = await timeUntilStored(env, MESSAGES, () =>
        direct('postMany', MESSAGES, `direct ${run}`),
      );
      if (run < WARM_UP) continue;
      drain.push(delivered.elapsed);
      posts.push(posted.elapsed);
      queueing.push(queued);
      duplicates += delivered.duplicates + posted.duplicates;
    }

    const tabwarden = summarize(drain);
    const baseline = summarize(posts);
    const ratio = tabwarden.p50 / baseline.p50;
    return {
      rows: [
        {
          metric: `${MESSAGES} queued messages delivered after reconnect`,
          tabwarden: `p50 ${ms(tabwarden.p50)}, max ${ms(tabwarden.max)}, ${duplicates} duplicates`,
          baseline: `the same ${MESSAGES} posted from a page in sequence: p50 ${ms(baseline.p50)}, max ${ms(baseline.max)}`,
          ratio: formatRatio(ratio),
          target: `≤ ${TARGET}× baseline, each stored once`,
          verdict: verdict(ratio <= TARGET && duplicates === 0),
          samples: `${RUNS} runs of ${MESSAGES} each, after ${WARM_UP} warm-up`,
        },
      ],
      data: {
        messages: MESSAGES,
        runs: RUNS,
        warmUp: WARM_UP,
        duplicates,
        drainMs: tabwarden,
        directMs: baseline,
        queueOfflineMs: summarize(queueing),
      },
      notes: [
        `Outbox drain: one verified tab (service-worker transport) with an open conversation, served through a front door in front of the server; the door cuts POST /messages (a network error, as a dropped connection gives), and ${MESSAGES} sendMessage calls one after another each answer pending from the outbox (all ${MESSAGES}: ${ms(summarize(queueing).p50)} p50). Then, timed in Node: the door heals and the page gets the browser's 'online' event (which the page stub passes to the worker: the network may be back), until the server's own request log shows ${MESSAGES} message posts answered 201. Baseline: the same ${MESSAGES} messages posted by a page of the same origin, through the same door, with fetch, one after another, with an authorization token it exchanged before the timing; timed the same way. Ratio of the p50s. (A context's offline switch is not used: the bench's browser leaves service-worker requests alone, so it would not reach the worker.)`,
      ],
    };
  } finally {
    await context.close();
    await baselineContext.close();
    await door.close();
  }
}
