// Fault injection (R10, R12, R14), once per transport where the fault applies: the host of the
// shared session dies in every phase of a call, the server fails, hangs or is down, a tab closes
// mid-call. Each case counts what a user would call a failure — a call lost (no answer, or a
// wrong one), a call hung (no answer within the bound), an effect duplicated — and asserts all
// three are 0, and that a call which cannot succeed fails with a code. `npm run soak` repeats
// the suite and tabulates the counts (scripts/soak.ts reads the `fault` annotations).
//
// Through the test kit (kit-app.ts): its `server` fixture holds, fails and cuts routes at the
// server's front door, which every request of pages and workers passes (a SharedWorker's too),
// and its `clock` expires both tokens without the test waiting for them.
import type { Page } from '@playwright/test';
import { openFrontDoor, type FrontDoor, type HeldRoute } from '../../src/testing/front-door.ts';
import type { TestAppServer, Tabs } from '../../src/testing/playwright/index.ts';
import {
  call,
  readDatabase,
  settled,
  start,
  stateOf,
  type ConversationEntry,
  type Outcome,
} from './app-driver.ts';
import { appUrl, expect, test as kitApp } from './kit-app.ts';
import { inPageLeader, restartHost } from './workers.ts';

// A call whose host died is answered within this, from the fault; it is far below any call's
// own limit (10 s, plus 30 s of grace for calls that may wait), so a call that only ended by
// its limit counts as hung.
const RECOVERY_BOUND_MS = 5_000;
const EXCHANGE = 'POST /v1/authorization';
const MESSAGES = 'POST /v1/conversations/:id/messages';
// Past a 10-minute identity token and the server's 1-minute authorization token.
const PAST_BOTH_TOKENS = '10:01';

const test = kitApp.extend<{ keysDoor: FrontDoor }>({
  // The identity provider's keys are not served by the reference server: a case that holds the
  // worker's key fetch points the app at a front door of their own.
  keysDoor: async ({ identityProvider }, use) => {
    const door = await openFrontDoor(new URL(identityProvider.jwksUrl).origin);
    try {
      await use(door);
    } finally {
      await door.close();
    }
  },
});

/** What one case counts. */
interface FaultTally {
  lost: number;
  duplicated: number;
  hung: number;
  /** From the fault to the answer of the call it hit. */
  recoveryMs: number;
}

/** Records the tally for the soak's table, then asserts nothing was lost, hung or duplicated. */
function expectNoHarm(tally: FaultTally): void {
  test.info().annotations.push({ type: 'fault', description: JSON.stringify(tally) });
  expect({ lost: tally.lost, duplicated: tally.duplicated, hung: tally.hung }).toEqual({
    lost: 0,
    duplicated: 0,
    hung: 0,
  });
}

/** The outcome of the call started as `name`, or `undefined` if it did not settle within `ms`. */
async function settledWithin<T>(tab: Page, name: string, ms: number): Promise<Outcome<T> | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  try {
    return await Promise.race([settled<T>(tab, name), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Opens `count` tabs, signed in as alice unless `signedIn` is false. On in-page the caller is a
 * follower, so it outlives the leader.
 */
async function openApp(
  tabs: Tabs,
  transport: string,
  count: number,
  { signedIn = true, url }: { signedIn?: boolean; url?: string } = {},
) {
  const open: Page[] = await tabs.open(count, {
    ...(signedIn ? { as: 'alice' } : {}),
    ...(url ? { url } : {}),
  });
  const leader = transport === 'in-page' ? await inPageLeader(open) : undefined;
  const caller = open.find((tab) => tab !== leader) ?? open[0]!;
  return { open, caller };
}

/**
 * The call started as `name` in `caller` has its request held on the wire (`held`): the host goes
 * away (`endHost`), then the request goes on, as one already sent would. Resolves with the call's
 * outcome (`undefined`: it did not settle within the bound), the time from the fault to it, and
 * the tabs still open.
 */
async function hostDiesWhileHeld<T>(
  held: HeldRoute,
  caller: Page,
  name: string,
  endHost: () => Promise<Page[]>,
): Promise<{ outcome: Outcome<T> | undefined; recoveryMs: number; left: Page[] }> {
  await held.arrived();
  const fault = Date.now();
  const left = await endHost();
  held.release();
  const outcome = await settledWithin<T>(caller, name, RECOVERY_BOUND_MS);
  return { outcome, recoveryMs: Date.now() - fault, left };
}

/** How many of the conversation's user entries carry `text`, read from `tab`. */
async function copiesOf(tabs: Tabs, tab: Page, text: string): Promise<number> {
  const entries = await tabs.call(tab, 'listEntries', 0);
  return entries.filter((entry) => entry.role === 'user' && entry.text === text).length;
}

test.describe('the host of the session dies mid-call', () => {
  test('R10: host stopped while the exchange is on the wire: the start is answered once, promptly', async ({
    tabs,
    server,
    transport,
    browser,
  }) => {
    const { open, caller } = await openApp(tabs, transport, 2);
    const exchange = server.hold(EXCHANGE);
    await start(caller, 'starting', 'startConversation');
    const { outcome, recoveryMs, left } = await hostDiesWhileHeld<{ conversationId: string }>(
      exchange,
      caller,
      'starting',
      () => restartHost(transport, open, browser, server.url),
    );
    const started = outcome?.ok ? outcome.value.conversationId : undefined;
    const sent = await call<ConversationEntry>(left.at(-1)!, 'sendMessage', 'after the fault');
    expectNoHarm({
      lost: outcome?.ok === false || !sent.ok ? 1 : 0,
      // A second conversation would be a duplicated start.
      duplicated: sent.ok && started !== undefined && sent.value.conversationId !== started ? 1 : 0,
      hung: outcome === undefined ? 1 : 0,
      recoveryMs,
    });
    // The exchange the dead host made may be made again, not more.
    expect(server.count(EXCHANGE)).toBeLessThanOrEqual(2);
  });

  test('R10: host stopped while a send is on the wire: the message is stored once and the page told so', async ({
    tabs,
    server,
    transport,
    browser,
  }) => {
    const { open, caller } = await openApp(tabs, transport, 2);
    await tabs.call(caller, 'startConversation');
    const post = server.hold(MESSAGES);
    await start(caller, 'sending', 'sendMessage', 'on the wire');
    // The dead host's request goes on to the server, as one already sent would.
    const { outcome, recoveryMs, left } = await hostDiesWhileHeld<ConversationEntry>(
      post,
      caller,
      'sending',
      () => restartHost(transport, open, browser, server.url),
    );
    const copies = await copiesOf(tabs, left.at(-1)!, 'on the wire');
    expectNoHarm({
      lost: outcome?.ok === false || copies === 0 ? 1 : 0,
      duplicated: Math.max(0, copies - 1),
      hung: outcome === undefined ? 1 : 0,
      recoveryMs,
    });
  });

  test('R10: host stopped while a token is being verified: the tab ends verified, promptly', async ({
    tabs,
    identityProvider,
    keysDoor,
    server,
    transport,
    browser,
  }) => {
    // The keys are held before any host fetched them, so the verification waits on the wire.
    const keys = keysDoor.hold('GET /jwks.json');
    const url = appUrl(tabs, { query: { jwksUrl: `${keysDoor.url}/jwks.json` } });
    const { open, caller } = await openApp(tabs, transport, 2, { signedIn: false, url });
    await start(caller, 'verifying', 'setIdentityToken', await identityProvider.mint('alice'));
    const { outcome, recoveryMs } = await hostDiesWhileHeld<{ sub: string }>(keys, caller, 'verifying', () =>
      restartHost(transport, open, browser, server.url),
    );
    expectNoHarm({
      lost: outcome?.ok === false || !(await stateOf(caller)).verified ? 1 : 0,
      duplicated: 0,
      hung: outcome === undefined ? 1 : 0,
      recoveryMs,
    });
  });

  test('R10/R7: host stopped while a clear is in flight: every tab ends cleared and nothing stays stored', async ({
    tabs,
    server,
    transport,
    browser,
  }) => {
    const { open, caller } = await openApp(tabs, transport, 3);
    await tabs.call(caller, 'startConversation');
    await start(caller, 'clearing', 'clearSession');
    const fault = Date.now();
    const left = await restartHost(transport, open, browser, server.url);
    const outcome = await settledWithin<undefined>(caller, 'clearing', RECOVERY_BOUND_MS);
    const recoveryMs = Date.now() - fault;
    // A clear that did not happen before the host died must be redone by the page's re-send.
    const stillVerified: Page[] = [];
    for (const tab of left) {
      await expect
        .poll(async () => (await stateOf(tab)).verified, { timeout: RECOVERY_BOUND_MS })
        .toBe(false)
        .catch(() => stillVerified.push(tab));
    }
    const stored = (await readDatabase(left.at(-1)!))?.session ?? [];
    expectNoHarm({
      lost: outcome?.ok === false || stillVerified.length > 0 || stored.length > 0 ? 1 : 0,
      duplicated: 0,
      hung: outcome === undefined ? 1 : 0,
      recoveryMs,
    });
  });
});

test.describe('the server fails', () => {
  const failures = [
    {
      what: 'answers 500',
      code: 'ERR_SERVER',
      inject: (server: TestAppServer, route: string) => server.fail(route, 500),
    },
    {
      what: 'is down',
      code: 'ERR_NETWORK',
      inject: (server: TestAppServer, route: string) => server.cut(route),
    },
  ] as const;
  for (const { what, code, inject } of failures) {
    test(`R12/R14: the server ${what} during the exchange, then during a send: a coded error, a pending message, and both go through once it is back`, async ({
      tabs,
      server,
      transport,
    }) => {
      const { open, caller } = await openApp(tabs, transport, 2);
      inject(server, EXCHANGE);
      const began = Date.now();
      const failedStart = await call(caller, 'startConversation');
      const startMs = Date.now() - began;
      server.heal();
      const { conversationId } = await tabs.call(caller, 'startConversation');

      inject(server, MESSAGES);
      const failedSend = await call(caller, 'sendMessage', 'while failing');
      server.heal();
      const sent = await call<ConversationEntry>(open[0]!, 'sendMessage', 'once back');
      const copies = await copiesOf(tabs, caller, 'once back');
      expect(failedStart).toMatchObject({ ok: false, code });
      // The send waited in the outbox, and went out ahead of the next one (R12).
      expect(failedSend).toMatchObject({ ok: true, value: { status: 'pending', text: 'while failing' } });
      const waited = await copiesOf(tabs, caller, 'while failing');
      expectNoHarm({
        lost:
          !sent.ok || sent.value.conversationId !== conversationId || copies === 0 || waited === 0 ? 1 : 0,
        duplicated: Math.max(0, copies - 1) + Math.max(0, waited - 1),
        hung: 0,
        recoveryMs: startMs,
      });
      // A network failure is no auth failure: the session stayed (R12).
      for (const tab of open) expect(await stateOf(tab)).toMatchObject({ verified: true, conversationId });
    });
  }

  test("R10/R12: the server hangs during the exchange: the call ends ERR_TIMEOUT within the worker's request limit, and the next works", async ({
    tabs,
    server,
    transport,
  }) => {
    const { caller } = await openApp(tabs, transport, 1);
    // Held and never released: the server never answers.
    server.hold(EXCHANGE);
    const began = Date.now();
    const failed = await call(caller, 'startConversation');
    const recoveryMs = Date.now() - began;
    server.heal();
    const retried = await call(caller, 'startConversation');
    expect(failed).toMatchObject({ ok: false, code: 'ERR_TIMEOUT' });
    expectNoHarm({ lost: retried.ok ? 0 : 1, duplicated: 0, hung: recoveryMs > 15_000 ? 1 : 0, recoveryMs });
  });
});

test('R4/R10: a tab closed while its start is on the wire: the exchange completes once and serves the next tab', async ({
  tabs,
  server,
  transport,
}) => {
  const { open, caller } = await openApp(tabs, transport, 2);
  const other = open.find((tab) => tab !== caller)!;
  const exchange = server.hold(EXCHANGE);
  await start(caller, 'starting', 'startConversation');
  await exchange.arrived();
  const fault = Date.now();
  await caller.close({ runBeforeUnload: false });
  await start(other, 'joining', 'startConversation');
  exchange.release();
  const outcome = await settledWithin<{ conversationId: string }>(other, 'joining', RECOVERY_BOUND_MS);
  const recoveryMs = Date.now() - fault;
  expectNoHarm({
    lost: outcome?.ok ? 0 : 1,
    // One exchange for both tabs (R4): the closed tab's start was not made twice.
    duplicated: Math.max(0, server.count(EXCHANGE) - 1),
    hung: outcome === undefined ? 1 : 0,
    recoveryMs,
  });
});

test.describe('during a grace wait', () => {
  test('R6/R10: host stopped while a send waits in the grace window: a new token then releases it, stored once', async ({
    tabs,
    server,
    clock,
    events,
    transport,
    browser,
  }) => {
    const { open, caller } = await openApp(tabs, transport, 2);
    await tabs.call(caller, 'startConversation');
    await clock.fastForward(PAST_BOTH_TOKENS);
    await start(caller, 'send', 'sendMessage', 'waited in the grace window');
    await events.wait(caller, 'onEmbeddedMessagingIdentityTokenExpired');
    const fault = Date.now();
    const left = await restartHost(transport, open, browser, server.url);
    await tabs.signIn(left.at(-1)!, 'alice');
    const outcome = await settledWithin<ConversationEntry>(caller, 'send', RECOVERY_BOUND_MS);
    const recoveryMs = Date.now() - fault;
    const copies = await copiesOf(tabs, caller, 'waited in the grace window');
    expectNoHarm({
      lost: outcome?.ok === false || copies === 0 ? 1 : 0,
      duplicated: Math.max(0, copies - 1),
      hung: outcome === undefined ? 1 : 0,
      recoveryMs,
    });
    for (const tab of left)
      await expect(tab).not.toHaveDispatched('tabwarden:session-cleared', { timeout: 0 });
  });
});
