// R10 in real Chromium, once per transport: the host of the shared session goes away — how
// depends on the transport (see restartHost in workers.ts: the browser stops the service
// worker; a SharedWorker's process ends; the in-page leader's tab closes) — several times in a row,
// and the tabs go on: the next call succeeds in the same conversation, nothing hangs, and a
// logout after a restart still reaches a tab that has been idle since.
import type { Page } from '@playwright/test';
import { eventsOf, waitForEvent } from '../../src/testing/index.ts';
import {
  call,
  facadeClearSession,
  reload,
  settled,
  start,
  stateOf,
  type ConversationEntry,
} from './app-driver.ts';
import { expect, test } from './kit-app.ts';
import { inPageLeader, restartHost } from './workers.ts';

// Five stops of the service worker (the brief's minimum); fewer rounds elsewhere, where each
// round closes and opens tabs or kills a process.
const roundsFor = (transport: string) => (transport === 'service-worker' ? 5 : 3);
// Short, so that a call lost with a dead host fails the test in seconds rather than hanging it.
// Calls that may wait out a grace window (R6) get the grace on top, so that is short too.
const CALL_TIMEOUT_MS = 3_000;
const GRACE_MS = 3_000;
test.use({ appQuery: { callTimeoutMs: CALL_TIMEOUT_MS, graceMs: GRACE_MS } });
// The longest a call may take: its limit (plus the grace), twice (the client retries once).
const CALL_BOUND_MS = 2 * (CALL_TIMEOUT_MS + GRACE_MS);

test('R10: after each of several restarts of the worker (five of the service worker) the next send succeeds in the same conversation; nothing hangs', async ({
  tabs: kit,
  server,
  identityProvider,
  transport,
  browser,
}) => {
  let tabs: Page[] = await kit.open(3);
  if (transport === 'in-page') expect(await inPageLeader(tabs)).toBe(tabs[0]);
  const token = await identityProvider.mint('alice');
  for (const tab of tabs) await kit.signIn(tab, token);
  const { conversationId } = await kit.call(tabs[0]!, 'startConversation');

  const rounds = roundsFor(transport);
  for (let round = 1; round <= rounds; round++) {
    tabs = await restartHost(transport, tabs, browser, server.url);
    // In-page: the leader's tab closed; a new tab joins so the next round has a leader to lose
    // and followers to keep.
    if (tabs.length < 3) {
      const [joined] = await kit.open(1);
      await kit.signIn(joined!, token);
      tabs.push(joined!);
    }
    const started = Date.now();
    const sent = await call<ConversationEntry>(tabs[0]!, 'sendMessage', `after restart ${round}`);
    expect(sent, `round ${round}`).toMatchObject({ ok: true, value: { conversationId } });
    expect(Date.now() - started, `round ${round}: the send took too long`).toBeLessThan(CALL_BOUND_MS);
    for (const tab of tabs) expect(await stateOf(tab)).toMatchObject({ verified: true });
  }

  const texts = (await kit.call(tabs.at(-1)!, 'listEntries', 0))
    .filter((entry) => entry.role === 'user')
    .map((entry) => entry.text);
  expect(texts).toEqual(Array.from({ length: rounds }, (_, i) => `after restart ${i + 1}`));
  for (const tab of tabs) expect(await eventsOf(tab, 'tabwarden:session-cleared')).toHaveLength(0);
});

test('R10: the host goes away while the session is being started: the start still succeeds and nothing hangs', async ({
  tabs: kit,
  server,
  identityProvider,
  transport,
  browser,
}) => {
  let tabs: Page[] = await kit.open(3);
  const token = await identityProvider.mint('alice');
  for (const tab of tabs) await kit.signIn(tab, token);
  // In-page, the host is the leader's tab: the start must come from a tab that survives it.
  const leader = transport === 'in-page' ? await inPageLeader(tabs) : undefined;
  const starter = tabs.find((tab) => tab !== leader)!;
  const began = Date.now();
  await start(starter, 'starting', 'startConversation');
  tabs = await restartHost(transport, tabs, browser, server.url);
  const outcome = await settled<{ conversationId: string }>(starter, 'starting');
  expect(outcome).toMatchObject({ ok: true });
  expect(Date.now() - began).toBeLessThan(CALL_BOUND_MS);
  const { conversationId } = (outcome as { value: { conversationId: string } }).value;
  const sent = await kit.call(tabs.at(-1)!, 'sendMessage', 'after the restart');
  expect(sent.conversationId).toBe(conversationId);
  // The exchange the old host made before it went away may be lost, and made again: not more.
  expect(server.count('POST /v1/authorization')).toBeLessThanOrEqual(2);
});

test('R10: a logout in one tab after a restart of the worker still clears a tab idle since (five times for the service worker)', async ({
  tabs: kit,
  server,
  identityProvider,
  transport,
  browser,
}) => {
  let tabs: Page[] = await kit.open(3);
  const clearsSeen = new Map<Page, number>();

  for (let round = 1; round <= roundsFor(transport); round++) {
    const token = await identityProvider.mint('alice');
    for (const tab of tabs) await kit.signIn(tab, token);
    await kit.call(tabs[0]!, 'startConversation');

    tabs = await restartHost(transport, tabs, browser, server.url);
    // The first remaining tab logs out; the others have made no call since the restart.
    const [active, ...idle] = tabs;
    expect(await facadeClearSession(active!), `round ${round}`).toEqual({ ok: true });
    for (const tab of idle) {
      const count = (clearsSeen.get(tab) ?? 0) + 1;
      clearsSeen.set(tab, count);
      const cleared = await waitForEvent<{ reason: string }>(tab, 'tabwarden:session-cleared', {
        count,
        timeoutMs: CALL_BOUND_MS,
      });
      expect(cleared.detail, `round ${round}`).toEqual({ reason: 'logout' });
      expect(await stateOf(tab)).toMatchObject({ verified: false });
      expect(await call(tab, 'listEntries', 0)).toMatchObject({ ok: false, code: 'ERR_NOT_VERIFIED' });
    }
    if (tabs.length < 3) tabs.push(...(await kit.open(3 - tabs.length)));
  }
});

test('R10: the first tab opened reloads (on in-page, the leader) and gets Ready again; the others keep the session', async ({
  tabs: kit,
  identityProvider,
  transport,
}) => {
  const tabs = await kit.open(3);
  const [first, ...others] = tabs;
  if (transport === 'in-page') expect(await inPageLeader(tabs)).toBe(first);
  const token = await identityProvider.mint('alice');
  for (const tab of tabs) await kit.signIn(tab, token);
  const { conversationId } = await kit.call(others[0]!, 'startConversation');

  // The reload takes the host with it on in-page: another tab takes the lead while the reloaded
  // page comes back and connects to it.
  await reload(first!);
  expect(await stateOf(first!)).toMatchObject({ ready: true, verified: false });
  await kit.signIn(first!, token);
  const sent = await call<ConversationEntry>(first!, 'sendMessage', 'after the reload');
  expect(sent).toMatchObject({ ok: true, value: { conversationId } });
  for (const tab of others) {
    expect(await stateOf(tab)).toMatchObject({ verified: true, conversationId });
    expect(await call(tab, 'listEntries', 0)).toMatchObject({ ok: true });
  }
});
