// R6 in real Chromium, once per transport: with both tokens expired, an interaction makes every
// verified tab dispatch the expiry event and the request wait; one new token from any tab
// releases every waiting request, and without one the session is cleared everywhere when the
// grace ends. Through the test kit (kit-app.ts): its clock moves the pages, the worker, the
// server and the identity provider together, so the tokens expire and the default 30 s grace
// runs out without the test waiting for either.
import type { Page } from '@playwright/test';
import { eventsNamed, readDatabase } from './app-driver.ts';
import { expect, test } from './kit-app.ts';
import { restartHost } from './workers.ts';

// Past a 10-minute identity token and the server's 1-minute authorization token.
const PAST_BOTH_TOKENS = '10:01';
const GRACE_MS = 30_000;
// The last jump to a deadline: how far apart the pages' clocks may be while they move.
const LAST_JUMP_MS = 1_000;

/** Whether `promise` has settled, without waiting for it. */
async function hasSettled(promise: Promise<unknown>): Promise<boolean> {
  const pending = Symbol('pending');
  return (
    (await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      Promise.resolve(pending),
    ])) !== pending
  );
}

test('R6: an interaction after both tokens expired fires the expiry event in every verified tab; one new token from another tab releases the waiting request in every tab', async ({
  tabs,
  clock,
  server,
  events,
}) => {
  const [first, other, third] = await tabs.open(3, { as: 'alice' });
  const [unverified] = await tabs.open(1);
  const { conversationId } = await tabs.call(first, 'startConversation');
  await clock.fastForward(PAST_BOTH_TOKENS);

  // Two tabs interact; both requests wait, and every verified tab is told once.
  const interactedAt = clock.now();
  const send = tabs.call(first, 'sendMessage', 'sent after both tokens expired');
  const list = tabs.call(third, 'listEntries', 0);
  const deadlines: number[] = [];
  for (const tab of [first, other, third]) {
    const expired = await events.wait<{ deadline: number }>(tab, 'onEmbeddedMessagingIdentityTokenExpired');
    deadlines.push(expired.detail.deadline);
    await expect(tab).toHaveDispatched('app:identity-token-expired', { times: 1 });
  }
  expect(new Set(deadlines).size).toBe(1);
  expect(deadlines[0]!).toBeGreaterThan(interactedAt);
  expect(deadlines[0]!).toBeLessThanOrEqual(clock.now() + GRACE_MS + 50);
  expect(await hasSettled(send)).toBe(false);
  expect(await hasSettled(list)).toBe(false);
  expect((await tabs.state(other)).graceDeadline).toBe(deadlines[0]);
  // A tab that never presented a token is not asked for one.
  await expect(unverified).not.toHaveDispatched('onEmbeddedMessagingIdentityTokenExpired', { timeout: 0 });

  // One new token, from a tab that was not waiting, releases both waiting requests.
  await tabs.signIn(other, 'alice');
  await expect(send).resolves.toMatchObject({ conversationId, text: 'sent after both tokens expired' });
  await expect(list).resolves.toEqual(expect.any(Array));
  expect(server.count('POST /v1/authorization')).toBe(2);

  // One expiry event per tab for that grace window, no clear, the session goes on.
  for (const tab of [first, other, third]) {
    await expect(tab).toHaveDispatched('onEmbeddedMessagingIdentityTokenExpired', { times: 1 });
    await expect(tab).not.toHaveDispatched('tabwarden:session-cleared', { timeout: 0 });
    expect(await tabs.state(tab)).toMatchObject({ verified: true, conversationId });
  }
  await expect(tabs.call(third, 'sendMessage', 'and the session goes on')).resolves.toMatchObject({
    conversationId,
  });
});

test('R6: without a new token the session is cleared in every tab when the grace ends (identity-token-timeout)', async ({
  tabs,
  clock,
  events,
}) => {
  const [first, second] = await tabs.open(2, { as: 'alice' });
  await tabs.call(first, 'startConversation');
  await tabs.call(first, 'sendMessage', 'alice wrote this');
  await clock.fastForward(PAST_BOTH_TOKENS);

  const send = tabs.call(second, 'sendMessage', 'waits for a token that never comes');
  const expired = await events.wait<{ deadline: number }>(first, 'onEmbeddedMessagingIdentityTokenExpired');
  const { deadline } = expired.detail;
  // (The pages' clock and the worker's agree to a few ms.)
  expect(deadline - clock.now()).toBeLessThanOrEqual(GRACE_MS + 50);
  // While the grace runs, the deadline is stored, so a worker restart can neither lose nor extend it.
  expect((await readDatabase(first))!.session[0]!.graceDeadline).toBe(deadline);
  // Nothing happens before the deadline...
  await clock.fastForward(deadline - clock.now() - 1_000);
  expect(await hasSettled(send)).toBe(false);
  await expect(first).not.toHaveDispatched('tabwarden:session-cleared', { timeout: 0 });

  // ... and at the deadline every tab is cleared.
  await clock.fastForward(1_000);
  for (const tab of [first, second]) {
    const cleared = await events.wait<{ reason: string }>(tab, 'tabwarden:session-cleared');
    expect(cleared.detail).toEqual({ reason: 'identity-token-timeout' });
    // Ready again for the next conversation (R7).
    await expect(tab).toHaveDispatched('onEmbeddedMessagingReady', { times: 2 });
    expect(await tabs.state(tab)).toMatchObject({ verified: false });
    expect((await tabs.state(tab)).conversationId).toBeUndefined();
  }
  await expect(send).rejects.toMatchObject({ code: 'ERR_SESSION_CLEARED' });
  expect(await readDatabase(second)).toMatchObject({ session: [], entries: [], outbox: [] });

  // No loop: one expiry event per tab for that window, and a call now needs a new token.
  for (const tab of [first, second]) {
    await expect(tab).toHaveDispatched('onEmbeddedMessagingIdentityTokenExpired', { times: 1 });
    expect(await eventsNamed(tab, 'app:session-cleared')).toHaveLength(1);
  }
  await expect(tabs.call(first, 'sendMessage', 'x')).rejects.toMatchObject({ code: 'ERR_NOT_VERIFIED' });
});

test.describe(() => {
  // Short call limits: the send that waits in the grace window may die with the host.
  test.use({ appQuery: { callTimeoutMs: 3_000 } });

  test('R6/R10: a restart of the worker during a grace wait neither loses nor extends the deadline', async ({
    tabs,
    clock,
    events,
    transport,
    browser,
    server,
  }) => {
    let open: Page[] = await tabs.open(3, { as: 'alice' });
    await tabs.call(open[0]!, 'startConversation');
    await clock.fastForward(PAST_BOTH_TOKENS);

    // The last tab's send opens the grace window; the middle tab stays idle throughout (on
    // in-page the first tab leads, and is the one to go).
    const [, idle, sender] = open as [Page, Page, Page];
    const send = tabs.call(sender, 'sendMessage', 'waits in the grace window');
    const { deadline } = (
      await events.wait<{ deadline: number }>(sender, 'onEmbeddedMessagingIdentityTokenExpired')
    ).detail;
    // Halfway through the window the host goes away (restartHost in workers.ts says how, per transport).
    await clock.fastForward(GRACE_MS / 2);
    open = await restartHost(transport, open, browser, server.url);

    // Past the deadline, the last second as a jump of its own: Playwright moves the pages one
    // after another, so a page not moved yet records another page's clear (the in-page host's)
    // at its older time — by at most that last jump (LAST_JUMP_MS below).
    await clock.fastForward(deadline - clock.now() - LAST_JUMP_MS);
    await clock.fastForward(LAST_JUMP_MS + 1);
    if (transport !== 'service-worker') {
      // A host that is alive after the restart (a new SharedWorker, the new in-page leader) has
      // the stored deadline and its timer: it clears every tab at the deadline, before any tab
      // asks. (A stopped service worker runs no timer until something wakes it: there, tabs
      // learn of the clear on their next contact, below.)
      for (const tab of open) {
        const which = tab === idle ? 'the idle tab' : 'the sending tab';
        await events.wait(tab, 'tabwarden:session-cleared').catch((error: Error) => {
          throw new Error(`${which}: ${error.message}`);
        });
      }
    }

    // After the deadline the idle tab asks for something. Whether the restarted host cleared the
    // session at the deadline by itself or learns now that the stored deadline has passed, the
    // session is gone with reason identity-token-timeout in every tab, and no second window opened.
    await expect(tabs.call(idle, 'listEntries', 0)).rejects.toThrow();
    for (const tab of open) {
      const cleared = await events.wait<{ reason: string }>(tab, 'tabwarden:session-cleared');
      expect(cleared.detail, tab === idle ? 'the idle tab' : 'the sending tab').toEqual({
        reason: 'identity-token-timeout',
      });
      expect(cleared.at).toBeGreaterThanOrEqual(deadline - LAST_JUMP_MS - 50);
      await expect(tab).toHaveDispatched('onEmbeddedMessagingIdentityTokenExpired', { times: 1 });
      expect(await tabs.state(tab)).toMatchObject({ verified: false });
    }
    await expect(send).rejects.toThrow();
    expect((await readDatabase(idle))!.session).toEqual([]);
  });
});
