// Logout and token-refresh propagation across 10 tabs, against a raw BroadcastChannel 1→10
// one-way in the same tabs, sample for sample (each tabwarden sample is followed by the
// baselines', so all see the same machine load). Times come from the tabs' shared clock.
// A third figure shows the floor of any design that relays through a service worker: a raw
// worker fanning a message out to 10 tabs and collecting their acknowledgements.
import { echoPage, pause, tabwardenPage, type BrowserEnv } from '../lib/browser-env.ts';
import { pollPage, type BenchTab } from '../lib/page-api.ts';
import { formatRatio, ms, verdict, type MetricResult, type Row } from '../lib/row.ts';
import { summarize, type Summary } from '../lib/stats.ts';

const TABS = 10;
const WARM_UP = 5;
const SAMPLES = { logout: 60, refresh: 100 };
/**
 * Fewer in the other engines, whose collection of the tabs' times is slower (not their figures):
 * WebKit's WebDriver switches windows to reach each tab.
 */
export const ENGINE_SAMPLES = { firefox: { logout: 30, refresh: 40 }, webkit: { logout: 12, refresh: 16 } };
// Before a logout the session is left to settle (session-started delivered everywhere); after
// a send the driver waits before asking the tabs, so its polling does not load the browser.
const SETTLE_MS = 50;
const ARRIVAL_MS = 30;

/** ms from `startedAt` until the last tab has a time for `method(...args)`, or `floor` is later. */
async function lastArrival(tabs: BenchTab[], method: string, args: unknown[], startedAt: number, floor = 0) {
  await pause(ARRIVAL_MS);
  const times = await Promise.all(tabs.map((tab) => pollPage<number>(tab, method, args)));
  return Math.max(floor, ...times) - startedAt;
}

/** Raw BroadcastChannel 1→10: tab 0 posts, every tab (its own included) receives. */
async function broadcastSample(tabs: BenchTab[], id: string): Promise<number> {
  const sentAt = await tabwardenPage(tabs[0]!)('broadcastBaseline', id);
  return lastArrival(tabs, 'receivedAt', [id], sentAt);
}

/** Raw service-worker relay 1→N with acknowledgements, in the raw tabs. */
export async function relaySample(rawTabs: BenchTab[], id: string): Promise<number> {
  const { startedAt, resolvedAt } = await echoPage(rawTabs[0]!)('relay', id);
  return lastArrival(rawTabs, 'relayedAt', [id], startedAt, resolvedAt);
}

interface Series {
  tabwarden: number[];
  broadcast: number[];
  relay: number[];
}

/** Propagation in Chromium: 10 tabwarden tabs and 10 raw tabs, each in a context of its own. */
export async function measurePropagation(env: BrowserEnv): Promise<MetricResult> {
  const context = await env.browser.newContext();
  const rawContext = await env.browser.newContext();
  try {
    const tabs = await env.openTabwardenTabs(context, TABS);
    const rawTabs = await env.openRawTabs(rawContext, TABS);
    return await measurePropagationIn(tabs, rawTabs, env.mint);
  } finally {
    await context.close();
    await rawContext.close();
  }
}

/**
 * The propagation figures over `tabs` (10 tabwarden tabs of one profile) and `rawTabs` (10 tabs
 * of the raw service-worker page, another profile or origin), in whatever engine runs them.
 * `engine` prefixes the rows' names for engines other than Chromium.
 */
export async function measurePropagationIn(
  tabs: BenchTab[],
  rawTabs: BenchTab[],
  mint: (expiresInSeconds: number) => Promise<string>,
  engine?: string,
  samples: { logout: number; refresh: number } = SAMPLES,
): Promise<MetricResult> {
  const { logout: LOGOUT_SAMPLES, refresh: REFRESH_SAMPLES } = samples;
  const prefix = engine ? `${engine}: ` : '';
  const first = tabwardenPage(tabs[0]!);
  const everyTab = (token: string) => Promise.all(tabs.map((tab) => tabwardenPage(tab)('verify', token)));
  const sample = async (series: Series, i: number, tabwarden: () => Promise<number>) => {
    const figures = [
      await tabwarden(),
      await broadcastSample(tabs, `b-${series.tabwarden.length}-${i}`),
      await relaySample(rawTabs, `r-${series.tabwarden.length}-${i}`),
    ];
    if (i < WARM_UP) return;
    series.tabwarden.push(figures[0]!);
    series.broadcast.push(figures[1]!);
    series.relay.push(figures[2]!);
  };

  // Token refresh: tab 0 presents a newer token (exp one second later each time, R9); done
  // when its call resolved and the 9 other tabs dispatched identity-token-refreshed.
  await everyTab(await mint(3600));
  await first('start');
  const refresh: Series = { tabwarden: [], broadcast: [], relay: [] };
  for (let i = 0; i < WARM_UP + REFRESH_SAMPLES; i++) {
    const token = await mint(3601 + i);
    await sample(refresh, i, async () => {
      const { startedAt, resolvedAt } = await first('refresh', token);
      const args = ['identity-token-refreshed', startedAt];
      return lastArrival(tabs.slice(1), 'firstAfter', args, startedAt, resolvedAt);
    });
  }

  // Logout: every tab verified and the conversation open, then clearSession() in tab 0; done
  // when every tab dispatched ready again and the call resolved (wipe durable, all confirmed).
  const logout: Series = { tabwarden: [], broadcast: [], relay: [] };
  const token = await mint(7200);
  for (let i = 0; i < WARM_UP + LOGOUT_SAMPLES; i++) {
    await everyTab(token);
    await first('start');
    await pause(SETTLE_MS);
    await sample(logout, i, async () => {
      const { startedAt, resolvedAt } = await first('clear');
      return lastArrival(tabs, 'firstAfter', ['ready', startedAt], startedAt, resolvedAt);
    });
  }

  const summaries = (series: Series) => ({
    tabwarden: summarize(series.tabwarden),
    broadcast: summarize(series.broadcast),
    relay: summarize(series.relay),
  });
  const logoutMs = summaries(logout);
  const refreshMs = summaries(refresh);
  return {
    rows: [
      row(`${prefix}logout propagation, 10 tabs`, logoutMs.tabwarden, logoutMs.broadcast, LOGOUT_SAMPLES),
      row(
        `${prefix}token refresh propagation, 10 tabs`,
        refreshMs.tabwarden,
        refreshMs.broadcast,
        REFRESH_SAMPLES,
      ),
      {
        metric: `${prefix}reference: raw service-worker relay 1→10 with acks`,
        tabwarden: '—',
        baseline: `logout runs: ${p50p95(logoutMs.relay)}; refresh runs: ${p50p95(refreshMs.relay)}`,
        ratio: formatRatio(logoutMs.relay.p95 / logoutMs.broadcast.p95),
        target: 'report (floor of a worker hub)',
        verdict: 'report',
        samples: `${LOGOUT_SAMPLES} + ${REFRESH_SAMPLES}`,
      },
    ],
    data: { tabs: TABS, warmUp: WARM_UP, logoutMs, refreshMs },
    notes: engine
      ? [
          `${prefix}the same propagation runs in ${engine}, its BroadcastChannel baseline and raw relay in the same ${engine} (WebKit: the driver switches WebDriver windows to collect the tabs' times, which are taken in the tabs as in Chromium).`,
        ]
      : [
          'Propagation: 10 tabs of one browser context on the service-worker transport, times taken in the tabs (`performance.timeOrigin + performance.now()`, 0.1 ms steps; tabs agree within ~0.3 ms by ping-pong). Logout = clearSession() in tab 0 until every tab dispatched `ready` again and the call resolved (wipe durable, every tab confirmed, R7). Refresh = setIdentityToken(newer token) in tab 0 until its call resolved and the 9 others dispatched `identity-token-refreshed` (R9). Baseline: a BroadcastChannel post in tab 0 until all 10 tabs (tab 0 included) received it. Reference: the same 1→10 through a raw service worker (clients.matchAll, a post on the event port each tab handed in — as tabwarden’s worker does; a post to the window client takes about twice as long — with an ack port per tab, answer once all acked), in 10 tabs of a second context; its ratio column is its p95 over the broadcast p95 — about the least any service-worker hub with acknowledgements costs on this machine.',
        ],
  };
}

const p50p95 = (s: Summary) => `p50 ${ms(s.p50)}, p95 ${ms(s.p95)}`;

function row(metric: string, tw: Summary, base: Summary, samples: number): Row {
  const ratio = tw.p95 / base.p95;
  return {
    metric,
    tabwarden: p50p95(tw),
    baseline: `BroadcastChannel 1→10: ${p50p95(base)}`,
    ratio: formatRatio(ratio),
    target: 'p95 ≤ 3× baseline p95',
    verdict: verdict(ratio <= 3),
    samples: `${samples} each, after ${WARM_UP} warm-up`,
  };
}
