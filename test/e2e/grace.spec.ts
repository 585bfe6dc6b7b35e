// R6 in real Chromium, once per transport: with both tokens expired, an interaction makes every
// verified tab dispatch the expiry event and the request wait; one new token from any tab
// releases every waiting request, and without one the session is cleared everywhere when the
// grace ends. Lifetimes are real and short (a page's fake clock does not reach its worker): the
// authorization token lives 2 s (the server counts whole seconds, so 1 s could mean none), the
// identity token about 3 s, and the tests wait for the page's clock — the worker's too — to pass
// both expiries, never a fixed time.
import type { Page } from '@playwright/test';
import { eventsOf, waitForEvent } from '../../src/testing/index.ts';
import {
  call,
  eventsNamed,
  facadeSetIdentityToken,
  isSettled,
  readDatabase,
  settled,
  signIn,
  start,
  stateOf,
  value,
  waitUntilBothExpired,
  waitUntilPast,
  type ConversationEntry,
} from './app-driver.ts';
import { expect, test } from './harness.ts';
import { restartHost } from './workers.ts';

const IDENTITY_LIFETIME_SECONDS = 3;

test.use({ serverOptions: { accessTokenLifetimeSeconds: 2 } });

test('R6: an interaction after both tokens expired fires the expiry event in every verified tab; one new token from another tab releases the waiting request in every tab', async ({
  app,
}) => {
  const graceMs = 20_000;
  const [first, other, third] = await app.open(3, { query: { graceMs } });
  const [unverified] = await app.open(1, { query: { graceMs } });
  const shortLived = await app.mint('alice', IDENTITY_LIFETIME_SECONDS);
  let exp = 0;
  for (const tab of [first!, other!, third!]) exp = (await signIn(tab, shortLived)).exp;
  const { conversationId } = await value<{ conversationId: string }>(first!, 'startConversation');
  await waitUntilBothExpired(first!, exp);

  // Two tabs interact; both requests wait, and every verified tab is told once.
  const interactedAt = Date.now();
  await start(first!, 'send', 'sendMessage', 'sent after both tokens expired');
  await start(third!, 'list', 'listEntries', 0);
  const deadlines: number[] = [];
  for (const tab of [first!, other!, third!]) {
    const expired = await waitForEvent<{ deadline: number }>(tab, 'onEmbeddedMessagingIdentityTokenExpired');
    deadlines.push(expired.detail.deadline);
    await waitForEvent(tab, 'app:identity-token-expired');
  }
  expect(new Set(deadlines).size).toBe(1);
  expect(deadlines[0]!).toBeGreaterThan(interactedAt);
  expect(deadlines[0]!).toBeLessThanOrEqual(Date.now() + graceMs);
  expect(await isSettled(first!, 'send')).toBe(false);
  expect(await isSettled(third!, 'list')).toBe(false);
  expect((await stateOf(other!)).graceDeadline).toBe(deadlines[0]);
  // A tab that never presented a token is not asked for one.
  expect(await eventsOf(unverified!, 'onEmbeddedMessagingIdentityTokenExpired')).toHaveLength(0);

  // One new token, from a tab that was not waiting, releases both waiting requests.
  expect(await facadeSetIdentityToken(other!, await app.mint('alice', 600))).toBe(true);
  const sent = await settled<ConversationEntry>(first!, 'send');
  expect(sent).toMatchObject({ ok: true, value: { conversationId, text: 'sent after both tokens expired' } });
  expect(await settled(third!, 'list')).toMatchObject({ ok: true });
  expect(app.server.exchangeCount()).toBe(2);

  // One expiry event per tab for that grace window, no clear, the session goes on.
  for (const tab of [first!, other!, third!]) {
    expect(await eventsOf(tab, 'onEmbeddedMessagingIdentityTokenExpired')).toHaveLength(1);
    expect(await eventsOf(tab, 'tabwarden:session-cleared')).toHaveLength(0);
    expect(await stateOf(tab)).toMatchObject({ verified: true, conversationId });
  }
  expect(await value<ConversationEntry>(third!, 'sendMessage', 'and the session goes on')).toMatchObject({
    conversationId,
  });
});

test('R6: without a new token the session is cleared in every tab when the grace ends (identity-token-timeout)', async ({
  app,
}) => {
  const graceMs = 3_000;
  const tabs = await app.open(2, { query: { graceMs } });
  const [first, second] = tabs as [(typeof tabs)[0], (typeof tabs)[0]];
  const shortLived = await app.mint('alice', IDENTITY_LIFETIME_SECONDS);
  let exp = 0;
  for (const tab of tabs) exp = (await signIn(tab, shortLived)).exp;
  await value(first, 'startConversation');
  await value(first, 'sendMessage', 'alice wrote this');
  await waitUntilBothExpired(first, exp);

  await start(second, 'send', 'sendMessage', 'waits for a token that never comes');
  const expired = await waitForEvent<{ deadline: number }>(first, 'onEmbeddedMessagingIdentityTokenExpired');
  const { deadline } = expired.detail;
  expect(deadline - Date.now()).toBeLessThanOrEqual(graceMs);
  // While the grace runs, the deadline is stored, so a worker restart can neither lose nor extend it.
  expect((await readDatabase(first))!.session[0]!.graceDeadline).toBe(deadline);

  for (const tab of tabs) {
    const cleared = await waitForEvent<{ reason: string }>(tab, 'tabwarden:session-cleared', {
      timeoutMs: graceMs + 5_000,
    });
    expect(cleared.detail).toEqual({ reason: 'identity-token-timeout' });
    // Not before the deadline (the page's clock is the worker's).
    expect(cleared.at).toBeGreaterThanOrEqual(deadline - 50);
    // Ready again for the next conversation (R7).
    await waitForEvent(tab, 'onEmbeddedMessagingReady', { count: 2 });
    expect(await stateOf(tab)).toMatchObject({ verified: false });
    expect((await stateOf(tab)).conversationId).toBeUndefined();
  }
  expect(await settled(second, 'send')).toMatchObject({ ok: false, code: 'ERR_SESSION_CLEARED' });
  const stored = await readDatabase(second);
  expect(stored).toMatchObject({ session: [], entries: [], outbox: [] });

  // No loop: one expiry event per tab for that window, and a call now needs a new token.
  for (const tab of tabs) {
    expect(await eventsOf(tab, 'onEmbeddedMessagingIdentityTokenExpired')).toHaveLength(1);
    expect(await eventsNamed(tab, 'app:session-cleared')).toHaveLength(1);
  }
  expect(await value(first, 'sendMessage', 'x').catch((error: Error) => error.message)).toMatch(
    /ERR_NOT_VERIFIED/,
  );
});

test('R6/R10: a restart of the worker during a grace wait neither loses nor extends the deadline', async ({
  app,
  transport,
  browser,
}) => {
  const graceMs = 4_000;
  // Short call limits: the send that waits in the grace window may die with the host.
  const query = { graceMs, callTimeoutMs: 3_000 };
  let tabs = await app.open(3, { query });
  const shortLived = await app.mint('alice', IDENTITY_LIFETIME_SECONDS);
  let exp = 0;
  for (const tab of tabs) exp = (await signIn(tab, shortLived)).exp;
  await value(tabs[0]!, 'startConversation');
  await waitUntilBothExpired(tabs[0]!, exp);

  // The last tab's send opens the grace window; the middle tab stays idle throughout (on
  // in-page the first tab leads, and is the one to go).
  const [, idle, sender] = tabs as [Page, Page, Page];
  await start(sender, 'send', 'sendMessage', 'waits in the grace window');
  const { deadline } = (
    await waitForEvent<{ deadline: number }>(sender, 'onEmbeddedMessagingIdentityTokenExpired')
  ).detail;
  // Halfway through the window the host goes away (restartHost in workers.ts says how, per transport).
  await waitUntilPast(sender, (deadline - graceMs / 2) / 1000);
  tabs = await restartHost(transport, tabs, browser, app.server.url);

  if (transport !== 'service-worker') {
    // A host that is alive after the restart (a new SharedWorker, the new in-page leader) has
    // the stored deadline and its timer: it clears every tab at the deadline, before any tab
    // asks. (A stopped service worker runs no timer until something wakes it: there, tabs learn
    // of the clear on their next contact, below.)
    for (const tab of tabs) {
      const which = tab === idle ? 'the idle tab' : 'the sending tab';
      await waitForEvent(tab, 'tabwarden:session-cleared', {
        timeoutMs: Math.max(0, deadline - Date.now()) + 3_000,
      }).catch((error: Error) => {
        throw new Error(`${which}: ${error.message}`);
      });
    }
  }

  // After the deadline the idle tab asks for something. Whether the restarted host cleared the
  // session at the deadline by itself or learns now that the stored deadline has passed, the
  // session is gone with reason identity-token-timeout in every tab, and no second window opened.
  await waitUntilPast(idle, deadline / 1000);
  expect((await call(idle, 'listEntries', 0)).ok).toBe(false);
  for (const tab of tabs) {
    const cleared = await waitForEvent<{ reason: string }>(tab, 'tabwarden:session-cleared', {
      timeoutMs: 5_000,
    });
    expect(cleared.detail, tab === idle ? 'the idle tab' : 'the sending tab').toEqual({
      reason: 'identity-token-timeout',
    });
    expect(cleared.at).toBeGreaterThanOrEqual(deadline - 50);
    expect(await eventsOf(tab, 'onEmbeddedMessagingIdentityTokenExpired')).toHaveLength(1);
    expect(await stateOf(tab)).toMatchObject({ verified: false });
  }
  expect(await settled(sender, 'send')).toMatchObject({ ok: false });
  expect((await readDatabase(idle))!.session).toEqual([]);
});
