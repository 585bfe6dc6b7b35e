// Issue 10's rows: the one live stream of conversation entries the worker holds for every tab.
//
// - An agent reply rendered in all 10 tabs (chat panel open), from the moment the server wrote it
//   (the entry's `createdAt`) until the last tab drew it, against the raw service-worker relay
//   1→10 with acknowledgements in the same run: the least any worker hub costs. And against the
//   same relay feeding each tab's chat panel the same conversation (a message, the reply 50 ms
//   later): the least any hub costs whose tabs draw this panel.
// - Streams the server sees with 1, 10 and 20 tabs following (target: 1 each; before, one per
//   chat panel, and Chromium gives HTTP/1.1 six connections per host).
// - Entry fan-out at 1, 10, 30 and 50 following tabs against the raw relay at the same count:
//   how the cost grows with tabs.
import type { BrowserContext } from 'playwright-core';
import { echoPage, pause, tabwardenPage, type BrowserEnv } from '../lib/browser-env.ts';
import type { BenchTab } from '../lib/page-api.ts';
import { formatRatio, ms, verdict, type MetricResult, type Row } from '../lib/row.ts';
import { summarize, type Summary } from '../lib/stats.ts';
import { relaySample } from './propagation.ts';

const REPLY_TABS = 10;
const STREAM_TABS = [1, 10, 20];
const FANOUT_TABS = [1, 10, 30, 50];
const WARM_UP = 3;
const SAMPLES = { reply: 100, fanout: 20 };
/** How long a tab may take to get an entry before the sample fails. */
const ARRIVAL_TIMEOUT_MS = 10_000;

/** Opens `count` tabs in `context`, verifies them, starts the session and makes every tab follow. */
async function followingTabs(env: BrowserEnv, context: BrowserContext, count: number, ui: boolean) {
  const tabs = await env.openTabwardenTabs(context, count, { ui });
  const token = await env.mint(3600);
  await Promise.all(tabs.map((tab) => tabwardenPage(tab)('verify', token)));
  await tabwardenPage(tabs[0]!)('start');
  await Promise.all(tabs.map((tab) => tabwardenPage(tab)('follow')));
  return tabs;
}

/** Event-stream requests the server has received so far. */
const streamRequests = (env: BrowserEnv) =>
  env.server.requests().filter((request) => request.method === 'GET' && request.path.endsWith('/events'))
    .length;

/**
 * ms from the server writing the agent's reply to the last of `tabs` having it (clocks: the
 * server's `Date.now()` and the tabs' `performance.timeOrigin + now()`, one machine, 1 ms steps).
 */
function replySampler(tabs: BenchTab[], timeoutMs = ARRIVAL_TIMEOUT_MS): (i: number) => Promise<number> {
  const whenEveryTabHas = (seq: number) =>
    Promise.all(tabs.map((tab) => tabwardenPage(tab)('whenEntry', seq, timeoutMs)));
  /** The reply the last sample timed: sent one at a time, the next message and reply follow it. */
  let lastReplySeq: number | undefined;
  return async (i) => {
    const send = () => tabwardenPage(tabs[0]!)('send', `bench message ${i}`);
    let seq: number;
    let arrivals: Array<{ at: number; createdAt: number }>;
    if (lastReplySeq === undefined) {
      // The first: the reply is the entry after the message (a new profile's stream may replay
      // older entries before it).
      seq = await send();
      arrivals = await whenEveryTabHas(seq + 1);
    } else {
      // Each tab waits for the reply from before the send, as the drawn relay's tabs wait from
      // before the turn: the driver's calls must not land in the renderers being timed, nor poll
      // them (a tab answers when its `entries` event came).
      [arrivals, seq] = await Promise.all([whenEveryTabHas(lastReplySeq + 2), send()]);
      if (seq !== lastReplySeq + 1)
        throw new Error(`message ${seq}: its reply was awaited as ${lastReplySeq + 2}`);
    }
    lastReplySeq = seq + 1;
    return Math.max(...arrivals.map((arrival) => arrival.at)) - arrivals[0]!.createdAt;
  };
}

/** ms from the raw page relaying a reply to every tab's chat panel until the last one has it. */
async function drawnRelaySample(rawTabs: BenchTab[], i: number): Promise<number> {
  // Each tab waits from before the turn, as tabwarden's tabs are asked about 50 ms before the
  // reply: the driver's calls must not land in the renderers while they are timed.
  const [arrivals, repliedAt] = await Promise.all([
    Promise.all(rawTabs.map((tab) => echoPage(tab)('whenRelayed', `turn-${i}-reply`, ARRIVAL_TIMEOUT_MS))),
    echoPage(rawTabs[0]!)('turn', i),
  ]);
  return Math.max(...arrivals) - repliedAt;
}

/**
 * `count` samples of each sampler after the warm-up, taken in turn sample for sample (so that all
 * see the same machine load); one summary per sampler.
 */
async function series(count: number, ...samplers: Array<(i: number) => Promise<number>>): Promise<Summary[]> {
  const figures = samplers.map((): number[] => []);
  for (let i = 0; i < WARM_UP + count; i++) {
    for (const [k, sample] of samplers.entries()) {
      const figure = await sample(i);
      if (i >= WARM_UP) figures[k]!.push(figure);
    }
  }
  return figures.map((taken) => summarize(taken));
}

const p50p95 = (s: Summary) => `p50 ${ms(s.p50)}, p95 ${ms(s.p95)}`;

export async function measureLiveEntries(env: BrowserEnv): Promise<MetricResult> {
  const rows: Row[] = [];
  const data: Record<string, unknown> = {};
  /** Runs `work` in `count` new browser profiles, closed after it. */
  const inContexts = async <T>(
    count: number,
    work: (contexts: BrowserContext[]) => Promise<T>,
  ): Promise<T> => {
    const contexts: BrowserContext[] = [];
    try {
      for (let i = 0; i < count; i++) contexts.push(await env.browser.newContext());
      return await work(contexts);
    } finally {
      await Promise.all(contexts.map((context) => context.close()));
    }
  };
  const inContext = <T>(work: (context: BrowserContext) => Promise<T>) =>
    inContexts(1, ([context]) => work(context!));

  // Agent reply in 10 tabs with the chat panel open, sample for sample against the raw relay and
  // the raw relay drawing the same panel, each in a profile of its own.
  const reply = await inContexts(3, async ([context, rawContext, drawnContext]) => {
    const tabs = await followingTabs(env, context!, REPLY_TABS, true);
    const rawTabs = await env.openRawTabs(rawContext!, REPLY_TABS);
    const drawnTabs = await env.openRawTabs(drawnContext!, REPLY_TABS, { panel: true });
    const [tabwarden, relay, drawnRelay] = await series(
      SAMPLES.reply,
      replySampler(tabs),
      (i) => relaySample(rawTabs, `reply-${i}`),
      (i) => drawnRelaySample(drawnTabs, i),
    );
    return { tabwarden: tabwarden!, relay: relay!, drawnRelay: drawnRelay! };
  });
  const replyRatio = reply.tabwarden.p95 / reply.relay.p95;
  rows.push({
    metric: 'agent reply rendered in all 10 tabs (chat panel open)',
    tabwarden: p50p95(reply.tabwarden),
    baseline: `raw service-worker relay 1→10 with acks: ${p50p95(reply.relay)}`,
    ratio: formatRatio(replyRatio),
    target: 'p95 ≤ 1.5× relay p95',
    verdict: verdict(replyRatio <= 1.5),
    samples: `${SAMPLES.reply} each, after ${WARM_UP} warm-up`,
  });
  const drawnRatio = reply.tabwarden.p95 / reply.drawnRelay.p95;
  rows.push({
    metric: 'agent reply rendered in all 10 tabs, against the same chat panel fed by the raw relay',
    tabwarden: p50p95(reply.tabwarden),
    baseline: `raw relay 1→10, each tab's panel drawing the same turn: ${p50p95(reply.drawnRelay)}`,
    ratio: formatRatio(drawnRatio),
    target: 'report (what the hub adds to drawing)',
    verdict: 'report',
    samples: `${SAMPLES.reply} each, after ${WARM_UP} warm-up`,
  });
  data.replyMs = reply;
  console.error(`  live-entries: reply ${JSON.stringify(reply)}`);

  // Streams the server sees: each count in a browser profile of its own.
  const streams: Record<number, { requested: number; open: number }> = {};
  for (const count of STREAM_TABS) {
    streams[count] = await inContext(async (context) => {
      const before = { requested: streamRequests(env), open: env.server.server.openStreams };
      // Without the panel: what is counted does not depend on it, and 20 panels load the machine.
      const tabs = await followingTabs(env, context, count, false);
      // One entry through the stream proves it is up (a new profile's first stream replays the
      // conversation so far: allow it time); then let any late opener show itself.
      await replySampler(tabs, 60_000)(0);
      await pause(1_000);
      return {
        requested: streamRequests(env) - before.requested,
        open: env.server.server.openStreams - before.open,
      };
    });
    await pause(200); // the closed profile's stream ends on the server
  }
  for (const count of STREAM_TABS) {
    const { requested, open } = streams[count]!;
    rows.push({
      metric: `event streams the server sees, ${count} tab${count > 1 ? 's' : ''} following the conversation`,
      tabwarden: `${open} open (${requested} opened)`,
      baseline: `before: ${count} (one per panel; HTTP/1.1 allows 6 per host)`,
      ratio: formatRatio(open / count),
      target: '1',
      verdict: verdict(open === 1 && requested === 1),
      samples: 'count',
    });
  }
  data.streams = streams;
  console.error(`  live-entries: streams ${JSON.stringify(streams)}`);

  // Fan-out at 1, 10, 30, 50 tabs following (no UI), then the raw relay at the same count. A
  // count the machine cannot open (a page load timing out) is an error row; the others stand.
  const fanout: Record<number, { tabwarden: Summary; relay: Summary }> = {};
  for (const count of FANOUT_TABS) {
    try {
      const tabwarden = await inContext(async (context) => {
        const tabs = await followingTabs(env, context, count, false);
        const [taken] = await series(SAMPLES.fanout, replySampler(tabs));
        return taken!;
      });
      const relay = await inContext(async (context) => {
        const rawTabs = await env.openRawTabs(context, count);
        const [taken] = await series(SAMPLES.fanout, (i) => relaySample(rawTabs, `fanout-${count}-${i}`));
        return taken!;
      });
      fanout[count] = { tabwarden, relay };
      console.error(`  live-entries: fan-out ${count} ${JSON.stringify(fanout[count])}`);
    } catch (error) {
      rows.push({
        metric: `entry fan-out, ${count} tabs following`,
        tabwarden: '—',
        baseline: '—',
        ratio: '—',
        target: 'ratio does not grow with N',
        verdict: 'error',
        samples: String(error instanceof Error ? error.message.split('\n')[0] : error),
      });
    }
  }
  const ratioAt = (count: number) => fanout[count]!.tabwarden.p95 / fanout[count]!.relay.p95;
  for (const count of FANOUT_TABS.filter((n) => fanout[n])) {
    rows.push({
      metric: `entry fan-out, ${count} tab${count > 1 ? 's' : ''} following`,
      tabwarden: p50p95(fanout[count]!.tabwarden),
      baseline: `raw relay 1→${count} with acks: ${p50p95(fanout[count]!.relay)}`,
      ratio: formatRatio(ratioAt(count)),
      target: 'ratio does not grow with N',
      verdict: count === 50 && fanout[10] ? verdict(ratioAt(50) <= ratioAt(10) * 1.5) : 'report',
      samples: `${SAMPLES.fanout} each, after ${WARM_UP} warm-up`,
    });
  }
  data.fanoutMs = fanout;

  return {
    rows,
    data,
    notes: [
      "Live entries (issue 10): the worker holds the browser's one event stream; an entry is timed from the server writing it (its createdAt, the server's Date.now()) until the last tab's `entries` event (after the chat panel, where open, put it in its log; the browser lays it out and draws it in the next frame, where the panel also scrolls to it), on the tabs' clock (performance.timeOrigin + now()); both clocks are the machine's, in 1 ms steps. The agent reply rows interleave each sample with a raw service-worker relay 1→10 with acks (bench/fixtures/pages/raw) in another profile, and with the same relay in a third profile whose tabs each show the chat panel (the UI bundle on a stand-in client): it relays a user message, then 50 ms after it the reply, as the reference server's agent does, and is timed from the reply setting out to the last panel having it. Fan-out: N tabs following without the panel, then N raw tabs, each profile alone; the verdict compares the ratio at 50 tabs with the one at 10 (at most 1.5× of it). Stream counts: each N in a fresh profile, tabs following without the panel, after one entry went through and 1 s more.",
    ],
  };
}
