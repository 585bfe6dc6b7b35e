// Fault injection (R10, R12, R14), once per transport where the fault applies: the host of the
// shared session dies in every phase of a call, the server fails, hangs or is down, a tab closes
// mid-call. Each case counts what a user would call a failure — a call lost (no answer, or a
// wrong one), a call hung (no answer within the bound), an effect duplicated — and asserts all
// three are 0, and that a call which cannot succeed fails with a code. `npm run soak` repeats
// the suite and tabulates the counts (scripts/soak.ts reads the `fault` annotations).
import type { Page } from '@playwright/test';
import { eventsOf, waitForEvent } from '../../src/testing/index.ts';
import type { AppDriver } from './app-driver.ts';
import {
  call,
  readDatabase,
  signIn,
  start,
  stateOf,
  value,
  waitUntilBothExpired,
  type ConversationEntry,
} from './app-driver.ts';
import {
  expect,
  expectNoHarm,
  settledWithin,
  test,
  EXCHANGE,
  JWKS,
  MESSAGES,
  RECOVERY_BOUND_MS,
} from './fault-harness.ts';
import { inPageLeader, restartHost } from './workers.ts';

/** Opens `count` signed-in tabs; on in-page the caller is a follower, so it outlives the leader. */
async function signedInTabs(app: AppDriver, transport: string, count: number) {
  const tabs = await app.open(count);
  const token = await app.mint('alice');
  for (const tab of tabs) await signIn(tab, token);
  const leader = transport === 'in-page' ? await inPageLeader(tabs) : undefined;
  const caller = tabs.find((tab) => tab !== leader) ?? tabs[0]!;
  return { tabs, token, caller };
}

/** How many of the conversation's user entries carry `text`, read from `tab`. */
async function copiesOf(tab: Page, text: string): Promise<number> {
  const entries = await value<ConversationEntry[]>(tab, 'listEntries', 0);
  return entries.filter((entry) => entry.role === 'user' && entry.text === text).length;
}

test.describe('the host of the session dies mid-call', () => {
  test('R10: host stopped while the exchange is on the wire: the start is answered once, promptly', async ({
    app,
    faults,
    transport,
    browser,
  }) => {
    const setup = await signedInTabs(app, transport, 2);
    const caller = setup.caller;
    let tabs = setup.tabs;
    const exchange = faults.inject('POST', EXCHANGE, 'hold');
    await start(caller, 'starting', 'startConversation');
    await exchange.arrived();
    const fault = Date.now();
    tabs = await restartHost(transport, tabs, browser, faults.url);
    exchange.release();
    const outcome = await settledWithin<{ conversationId: string }>(caller, 'starting', RECOVERY_BOUND_MS);
    const recoveryMs = Date.now() - fault;
    const started = outcome?.ok ? outcome.value.conversationId : undefined;
    const sent = await call<ConversationEntry>(tabs.at(-1)!, 'sendMessage', 'after the fault');
    expectNoHarm({
      lost: outcome?.ok === false || !sent.ok ? 1 : 0,
      // A second conversation would be a duplicated start.
      duplicated: sent.ok && started !== undefined && sent.value.conversationId !== started ? 1 : 0,
      hung: outcome === undefined ? 1 : 0,
      recoveryMs,
    });
    // The exchange the dead host made may be made again, not more.
    expect(app.server.exchangeCount()).toBeLessThanOrEqual(2);
  });

  test('R10: host stopped while a send is on the wire: the message is stored once and the page told so', async ({
    app,
    faults,
    transport,
    browser,
  }) => {
    const setup = await signedInTabs(app, transport, 2);
    const caller = setup.caller;
    let tabs = setup.tabs;
    await value(caller, 'startConversation');
    const post = faults.inject('POST', MESSAGES, 'hold');
    await start(caller, 'sending', 'sendMessage', 'on the wire');
    await post.arrived();
    const fault = Date.now();
    tabs = await restartHost(transport, tabs, browser, faults.url);
    // The dead host's request goes on to the server, as one already sent would.
    post.release();
    const outcome = await settledWithin<ConversationEntry>(caller, 'sending', RECOVERY_BOUND_MS);
    const recoveryMs = Date.now() - fault;
    const copies = await copiesOf(tabs.at(-1)!, 'on the wire');
    expectNoHarm({
      lost: outcome?.ok === false || copies === 0 ? 1 : 0,
      duplicated: Math.max(0, copies - 1),
      hung: outcome === undefined ? 1 : 0,
      recoveryMs,
    });
  });

  test('R10: host stopped while a token is being verified: the tab ends verified, promptly', async ({
    app,
    faults,
    transport,
    browser,
  }) => {
    // The keys are held before any host fetched them, so the verification waits on the wire.
    const keys = faults.inject('GET', JWKS, 'hold');
    const tabs = await app.open(2);
    const leader = transport === 'in-page' ? await inPageLeader(tabs) : undefined;
    const caller = tabs.find((tab) => tab !== leader)!;
    await start(caller, 'verifying', 'setIdentityToken', await app.mint('alice'));
    await keys.arrived();
    const fault = Date.now();
    await restartHost(transport, tabs, browser, faults.url);
    keys.release();
    const outcome = await settledWithin<{ sub: string }>(caller, 'verifying', RECOVERY_BOUND_MS);
    const recoveryMs = Date.now() - fault;
    expectNoHarm({
      lost: outcome?.ok === false || !(await stateOf(caller)).verified ? 1 : 0,
      duplicated: 0,
      hung: outcome === undefined ? 1 : 0,
      recoveryMs,
    });
  });

  test('R10/R7: host stopped while a clear is in flight: every tab ends cleared and nothing stays stored', async ({
    app,
    transport,
    faults,
    browser,
  }) => {
    const setup = await signedInTabs(app, transport, 3);
    const caller = setup.caller;
    let tabs = setup.tabs;
    await value(caller, 'startConversation');
    await start(caller, 'clearing', 'clearSession');
    const fault = Date.now();
    tabs = await restartHost(transport, tabs, browser, faults.url);
    const outcome = await settledWithin<undefined>(caller, 'clearing', RECOVERY_BOUND_MS);
    const recoveryMs = Date.now() - fault;
    // A clear that did not happen before the host died must be redone by the page's re-send.
    const stillVerified: Page[] = [];
    for (const tab of tabs) {
      await expect
        .poll(async () => (await stateOf(tab)).verified, { timeout: RECOVERY_BOUND_MS })
        .toBe(false)
        .catch(() => stillVerified.push(tab));
    }
    const stored = (await readDatabase(tabs.at(-1)!))?.session ?? [];
    expectNoHarm({
      lost: outcome?.ok === false || stillVerified.length > 0 || stored.length > 0 ? 1 : 0,
      duplicated: 0,
      hung: outcome === undefined ? 1 : 0,
      recoveryMs,
    });
  });
});

test.describe('the server fails', () => {
  for (const [fault, code] of [
    ['error-500', 'ERR_SERVER'],
    ['down', 'ERR_NETWORK'],
  ] as const) {
    test(`R12/R14: the server ${fault === 'down' ? 'is down' : 'answers 500'} during the exchange, then during a send: a coded error, a pending message, and both go through once it is back`, async ({
      app,
      faults,
      transport,
    }) => {
      const { tabs, caller } = await signedInTabs(app, transport, 2);
      faults.inject('POST', EXCHANGE, fault);
      const began = Date.now();
      const failedStart = await call(caller, 'startConversation');
      const startMs = Date.now() - began;
      faults.clear();
      const { conversationId } = await value<{ conversationId: string }>(caller, 'startConversation');

      faults.inject('POST', MESSAGES, fault);
      const failedSend = await call(caller, 'sendMessage', 'while failing');
      faults.clear();
      const sent = await call<ConversationEntry>(tabs[0]!, 'sendMessage', 'once back');
      const copies = await copiesOf(caller, 'once back');
      expect(failedStart).toMatchObject({ ok: false, code });
      // The send waited in the outbox, and went out ahead of the next one (R12).
      expect(failedSend).toMatchObject({ ok: true, value: { status: 'pending', text: 'while failing' } });
      const waited = await copiesOf(caller, 'while failing');
      expectNoHarm({
        lost:
          !sent.ok || sent.value.conversationId !== conversationId || copies === 0 || waited === 0 ? 1 : 0,
        duplicated: Math.max(0, copies - 1) + Math.max(0, waited - 1),
        hung: 0,
        recoveryMs: startMs,
      });
      // A network failure is no auth failure: the session stayed (R12).
      for (const tab of tabs) expect(await stateOf(tab)).toMatchObject({ verified: true, conversationId });
    });
  }

  test("R10/R12: the server hangs during the exchange: the call ends ERR_TIMEOUT within the worker's request limit, and the next works", async ({
    app,
    faults,
    transport,
  }) => {
    const { caller } = await signedInTabs(app, transport, 1);
    faults.inject('POST', EXCHANGE, 'hang');
    const began = Date.now();
    const failed = await call(caller, 'startConversation');
    const recoveryMs = Date.now() - began;
    faults.clear();
    const retried = await call(caller, 'startConversation');
    expect(failed).toMatchObject({ ok: false, code: 'ERR_TIMEOUT' });
    expectNoHarm({ lost: retried.ok ? 0 : 1, duplicated: 0, hung: recoveryMs > 15_000 ? 1 : 0, recoveryMs });
  });
});

test('R4/R10: a tab closed while its start is on the wire: the exchange completes once and serves the next tab', async ({
  app,
  faults,
  transport,
}) => {
  const { tabs, caller } = await signedInTabs(app, transport, 2);
  const other = tabs.find((tab) => tab !== caller)!;
  const exchange = faults.inject('POST', EXCHANGE, 'hold');
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
    duplicated: Math.max(0, app.server.exchangeCount() - 1),
    hung: outcome === undefined ? 1 : 0,
    recoveryMs,
  });
});

test.describe('during a grace wait', () => {
  // Both tokens expire within seconds: the authorization token lives 2 s, the identity token 3 s.
  test.use({ serverOptions: { accessTokenLifetimeSeconds: 2 } });

  test('R6/R10: host stopped while a send waits in the grace window: a new token then releases it, stored once', async ({
    app,
    faults,
    transport,
    browser,
  }) => {
    let tabs = await app.open(2);
    const leader = transport === 'in-page' ? await inPageLeader(tabs) : undefined;
    const caller = tabs.find((tab) => tab !== leader)!;
    let exp = 0;
    const shortLived = await app.mint('alice', 3);
    for (const tab of tabs) exp = (await signIn(tab, shortLived)).exp;
    await value(caller, 'startConversation');
    await waitUntilBothExpired(caller, exp);
    await start(caller, 'send', 'sendMessage', 'waited in the grace window');
    await waitForEvent(caller, 'onEmbeddedMessagingIdentityTokenExpired');
    const fault = Date.now();
    tabs = await restartHost(transport, tabs, browser, faults.url);
    await signIn(tabs.at(-1)!, await app.mint('alice'));
    const outcome = await settledWithin<ConversationEntry>(caller, 'send', RECOVERY_BOUND_MS);
    const recoveryMs = Date.now() - fault;
    const copies = await copiesOf(caller, 'waited in the grace window');
    expectNoHarm({
      lost: outcome?.ok === false || copies === 0 ? 1 : 0,
      duplicated: Math.max(0, copies - 1),
      hung: outcome === undefined ? 1 : 0,
      recoveryMs,
    });
    for (const tab of tabs) expect(await eventsOf(tab, 'tabwarden:session-cleared')).toHaveLength(0);
  });
});
