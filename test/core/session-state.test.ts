import { describe, expect, it } from 'vitest';
import type { IdentityClaims } from '../../src/core/protocol.ts';
import {
  initialState,
  step,
  verifiedSubject,
  type ExchangeAnswer,
  type SessionEffect,
  type SessionEvent,
  type SessionState,
} from '../../src/core/session-state.ts';

const NOW = Date.parse('2030-01-01T00:00:00Z');
const GRACE_MS = 30_000;
const seconds = (n: number) => NOW / 1000 + n;
const alice: IdentityClaims = { iss: 'idp', sub: 'alice', exp: seconds(600) };
const aliceNewer: IdentityClaims = { iss: 'idp', sub: 'alice', exp: seconds(1200) };
const bob: IdentityClaims = { iss: 'idp', sub: 'bob', exp: seconds(600) };

/** Steps through `events` from `state`, returning the last state and every effect in order. */
function run(state: SessionState, ...events: SessionEvent[]): [SessionState, SessionEffect[]] {
  const effects: SessionEffect[] = [];
  for (const event of events) {
    const [next, more] = step(state, event);
    state = next;
    effects.push(...more);
  }
  return [state, effects];
}

const types = (effects: SessionEffect[]) => effects.map((effect) => effect.type);
const connected = (...tabIds: string[]) =>
  run(initialState(GRACE_MS), ...tabIds.map((tabId): SessionEvent => ({ type: 'tab-connected', tabId })))[0];
const token = (tabId: string, claims: IdentityClaims, now = NOW, name = `${claims.sub}@${claims.exp}`) =>
  ({ type: 'identity-verified', tabId, token: name, claims, now }) as const;
const access = (request: number, now = NOW, interactive = true) =>
  ({ type: 'access-needed', request, interactive, now }) as const;
const answerFor = (
  claims: IdentityClaims,
  accessToken = 'access-1',
  expiresAt = NOW + 60_000,
): ExchangeAnswer => ({
  accessToken,
  expiresAt,
  subject: { iss: claims.iss, sub: claims.sub },
});

/** Alice verified in t1 with a started session whose authorization token expires at `expiresAt`. */
function started(expiresAt = NOW + 60_000, identity = alice): SessionState {
  const [state] = run(
    connected('t1', 't2'),
    token('t1', identity),
    access(1),
    { type: 'exchange-answered', epoch: 0, answer: answerFor(identity, 'access-1', expiresAt) },
    {
      type: 'conversation-opened',
      epoch: 0,
      answer: answerFor(identity, 'access-1', expiresAt),
      conversationId: 'c1',
    },
    { type: 'session-saved', epoch: 0 },
  );
  return state;
}

describe('session-state reducer', () => {
  describe('R3 per tab, in memory', () => {
    it('R3: a tab is verified only after it presents a valid token itself', () => {
      const [state] = run(connected('t1', 't2'), token('t1', alice));
      expect(verifiedSubject(state, 't1')).toEqual({ iss: 'idp', sub: 'alice' });
      expect(verifiedSubject(state, 't2')).toBeUndefined();
      expect(state.identity?.token).toBe(`alice@${alice.exp}`);
    });

    it('R3: the session the store restores verifies no tab', () => {
      const session = started();
      const [state] = run(connected('t1'), {
        type: 'restored',
        stored: { sessionVersion: 1, lastClear: { sessionVersion: 0 }, session: session.session },
        now: NOW,
      });
      expect(state.session?.conversationId).toBe('c1');
      expect(verifiedSubject(state, 't1')).toBeUndefined();
      expect(state.identity).toBeUndefined();
    });
  });

  describe('R4 the button starts the session', () => {
    it('R4: requests at once make one exchange; its stored record releases them all', () => {
      const [waiting, effects] = run(
        connected('t1', 't2'),
        token('t1', alice),
        access(1),
        access(2),
        access(3),
      );
      expect(types(effects).filter((type) => type === 'exchange')).toHaveLength(1);
      expect(waiting.waiting).toEqual([1, 2, 3]);
      const [opened, opening] = run(waiting, {
        type: 'exchange-answered',
        epoch: 0,
        answer: answerFor(alice),
      });
      expect(opening).toEqual([{ type: 'open-conversation', epoch: 0, answer: answerFor(alice) }]);
      const [saving, persist] = run(opened, {
        type: 'conversation-opened',
        epoch: 0,
        answer: answerFor(alice),
        conversationId: 'c1',
      });
      expect(saving.session).toMatchObject({
        conversationId: 'c1',
        sessionVersion: 1,
        accessToken: 'access-1',
      });
      expect(types(persist)).toEqual(['persist-session']);
      const [done, released] = run(saving, { type: 'session-saved', epoch: 0 });
      expect(done.exchange).toBeUndefined();
      expect(released).toContainEqual({ type: 'release', requests: [1, 2, 3], session: saving.session });
      expect(released).toContainEqual(
        expect.objectContaining({
          type: 'broadcast',
          event: expect.objectContaining({ type: 'session-started' }),
        }),
      );
    });

    it('R4: a new session the store refuses is not started; its requests fail and its token is given back', () => {
      const [waiting] = run(
        connected('t1'),
        token('t1', alice),
        access(1),
        { type: 'exchange-answered', epoch: 0, answer: answerFor(alice) },
        { type: 'conversation-opened', epoch: 0, answer: answerFor(alice), conversationId: 'c1' },
      );
      const quota = new Error('quota');
      const [state, effects] = run(waiting, { type: 'session-save-failed', epoch: 0, error: quota });
      expect(state.session).toBeUndefined();
      expect(effects).toEqual([
        { type: 'discard-session', accessToken: 'access-1', conversationId: 'c1' },
        { type: 'reject', requests: [1], failure: { thrown: quota } },
      ]);
    });
  });

  describe('R5 silent renewal', () => {
    it('R5: an expired authorization token with a usable identity renews, keeping the conversation, with no event', () => {
      const session = started(NOW + 1_000);
      const [renewing, effects] = run(session, access(7, NOW + 2_000));
      expect(effects).toEqual([{ type: 'exchange', epoch: 1, identityToken: `alice@${alice.exp}` }]);
      const [saving] = run(renewing, {
        type: 'exchange-answered',
        epoch: 1,
        answer: answerFor(alice, 'access-2', NOW + 90_000),
      });
      const [done, released] = run(saving, { type: 'session-saved', epoch: 1 });
      expect(done.session).toMatchObject({
        conversationId: 'c1',
        accessToken: 'access-2',
        sessionVersion: 2,
      });
      expect(types(released)).toEqual(['update-live-stream', 'release']);
    });

    it('R5: a refused authorization token is expired, unless another request already replaced it', () => {
      const session = started();
      const [other] = run(session, { type: 'access-token-refused', accessToken: 'access-0' });
      expect(other.session?.accessTokenExpiresAt).toBe(NOW + 60_000);
      const [refused] = run(session, { type: 'access-token-refused', accessToken: 'access-1' });
      expect(refused.session?.accessTokenExpiresAt).toBe(0);
    });
  });

  describe('R6 expiry event and grace', () => {
    const later = seconds(700) * 1000;

    it('R6: both tokens expired opens one grace window; a usable token releases it', () => {
      const session = started();
      const [waiting, opened] = run(session, access(1, later), access(2, later));
      expect(waiting.graceDeadline).toBe(later + GRACE_MS);
      expect(waiting.session?.graceDeadline).toBe(later + GRACE_MS);
      expect(opened.filter((e) => e.type === 'broadcast')).toEqual([
        {
          type: 'broadcast',
          event: { type: 'identity-token-expired', sessionVersion: 1, deadline: later + GRACE_MS },
          to: { kind: 'verified' },
          awaited: false,
        },
      ]);
      expect(waiting.waiting).toEqual([1, 2]);
      const fresh: IdentityClaims = { ...alice, exp: seconds(2000) };
      const [renewing, ended] = run(waiting, token('t2', fresh, later + 1_000));
      expect(renewing.graceDeadline).toBeUndefined();
      expect(renewing.session?.graceDeadline).toBeUndefined();
      expect(types(ended)).toEqual([
        'broadcast',
        'cancel-grace-timer',
        'save-session',
        'exchange',
        'deliver-outbox',
        'update-live-stream',
      ]);
      const [, released] = run(
        renewing,
        { type: 'exchange-answered', epoch: 1, answer: answerFor(fresh, 'access-2', later + 60_000) },
        { type: 'session-saved', epoch: 1 },
      );
      expect(released).toContainEqual(expect.objectContaining({ type: 'release', requests: [1, 2] }));
    });

    it('R6: without a token by the deadline the session is cleared and every waiting request refused', () => {
      const [waiting] = run(started(), access(1, later));
      const [state, effects] = run(waiting, { type: 'grace-timer-fired' });
      expect(state.session).toBeUndefined();
      expect(state.lastClearReason).toBe('identity-token-timeout');
      expect(effects).toContainEqual({
        type: 'reject',
        requests: [1],
        failure: { code: 'ERR_SESSION_CLEARED', message: 'The session was cleared (identity-token-timeout)' },
      });
    });

    it('R6: the live stream is no interaction: it is refused, and opens no grace window', () => {
      const [state, effects] = run(started(), access(1, later, false));
      expect(state.graceDeadline).toBeUndefined();
      expect(effects).toEqual([
        {
          type: 'reject',
          requests: [1],
          failure: { code: 'ERR_TOKEN_EXPIRED', message: 'Both tokens expired: waiting for a new one' },
        },
      ]);
    });

    it('R6: a restarted worker keeps a stored deadline, or clears when it passed', () => {
      const record = { ...started().session!, graceDeadline: NOW + 10_000 };
      const stored = { sessionVersion: 1, lastClear: { sessionVersion: 0 }, session: record };
      const [kept, timer] = run(initialState(GRACE_MS), { type: 'restored', stored, now: NOW });
      expect(kept.graceDeadline).toBe(NOW + 10_000);
      expect(timer).toContainEqual({ type: 'set-grace-timer', deadline: NOW + 10_000 });
      expect(timer.some((e) => e.type === 'broadcast')).toBe(false);
      const [passed, wipe] = run(initialState(GRACE_MS), { type: 'restored', stored, now: NOW + 10_000 });
      expect(passed.session).toBeUndefined();
      expect(wipe).toContainEqual(
        expect.objectContaining({ type: 'wipe', reason: 'identity-token-timeout' }),
      );
    });
  });

  describe('R7 clear', () => {
    it('R7: a clear leaves no session, identity or verified tab, and grows the version', () => {
      const [state, effects] = run(started(), {
        type: 'clear-requested',
        reason: 'logout',
        endSession: true,
      });
      expect(state).toMatchObject({
        sessionVersion: 2,
        clearedVersion: 2,
        lastClearReason: 'logout',
        clearing: 2,
      });
      expect(state.session).toBeUndefined();
      expect(state.identity).toBeUndefined();
      expect(Object.values(state.tabs).every((tab) => tab.verifiedAs === undefined)).toBe(true);
      expect(types(effects)).toEqual(['reset-outbox', 'stop-live-stream', 'wipe']);
      expect(effects[2]).toEqual({
        type: 'wipe',
        sessionVersion: 2,
        reason: 'logout',
        endSession: true,
        previous: { accessToken: 'access-1', conversationId: 'c1' },
      });
    });

    it('R7: a clear under way is shared while nothing came since, and done once its wipe is', () => {
      const [clearing] = run(started(), { type: 'clear-requested', reason: 'logout', endSession: false });
      const [shared, none] = run(clearing, { type: 'clear-requested', reason: 'logout', endSession: false });
      expect(none).toEqual([]);
      expect(shared.sessionVersion).toBe(2);
      const [done] = run(shared, { type: 'clear-done', sessionVersion: 2 });
      expect(done.clearing).toBeUndefined();
      const [again, wipe] = run(done, { type: 'clear-requested', reason: 'logout', endSession: false });
      expect(again.sessionVersion).toBe(3);
      expect(types(wipe)).toContain('wipe');
    });

    it('R7: a token verified while a wipe is under way is cleared by the next logout, not shared away', () => {
      const [clearing] = run(started(), { type: 'clear-requested', reason: 'logout', endSession: false });
      const [reverified] = run(clearing, token('t2', alice));
      expect(reverified.tabs.t2?.verifiedAs).toEqual({ iss: 'idp', sub: 'alice' });
      const [again, wipe] = run(reverified, { type: 'clear-requested', reason: 'logout', endSession: false });
      expect(types(wipe)).toContain('wipe');
      expect(again.sessionVersion).toBeGreaterThan(reverified.sessionVersion);
      expect(again.identity).toBeUndefined();
      expect(Object.values(again.tabs).some((tab) => tab.verifiedAs)).toBe(false);
    });

    it('R7: a stale exchange answer is revoked, never adopted', () => {
      const [exchanging] = run(connected('t1'), token('t1', alice), access(1));
      const [cleared, rejected] = run(exchanging, {
        type: 'clear-requested',
        reason: 'logout',
        endSession: false,
      });
      expect(rejected).toContainEqual(expect.objectContaining({ type: 'reject', requests: [1] }));
      const [after, effects] = run(cleared, {
        type: 'exchange-answered',
        epoch: 0,
        answer: answerFor(alice),
      });
      expect(effects).toEqual([{ type: 'revoke', accessToken: 'access-1' }]);
      expect(after).toBe(cleared);
    });

    it('R7: a tab that missed a clear cannot restore its token', () => {
      const [cleared] = run(started(), { type: 'clear-requested', reason: 'logout', endSession: false });
      const [state, effects] = run(cleared, {
        type: 'identity-restored',
        tabId: 't1',
        token: 'old',
        claims: alice,
        knownSessionVersion: 1,
        now: NOW,
      });
      expect(effects).toEqual([
        {
          type: 'refuse',
          failure: { code: 'ERR_SESSION_CLEARED', message: 'The session this token belonged to was cleared' },
        },
      ]);
      expect(state).toBe(cleared);
    });
  });

  describe('R8 user switch', () => {
    it('R8: a token for another subject clears the old session, then verifies only the new tab', () => {
      const [verifiedBoth] = run(started(), token('t2', alice));
      const [state, effects] = run(verifiedBoth, token('t2', bob));
      expect(effects).toContainEqual(expect.objectContaining({ type: 'wipe', reason: 'user-switch' }));
      expect(state.session).toBeUndefined();
      expect(verifiedSubject(state, 't1')).toBeUndefined();
      expect(verifiedSubject(state, 't2')).toEqual({ iss: 'idp', sub: 'bob' });
      expect(state.identity?.claims.sub).toBe('bob');
    });

    it("R8: an exchange answered for another subject than the session's is revoked and refused", () => {
      const [exchanging] = run(connected('t1'), token('t1', alice), access(1));
      const [state, effects] = run(exchanging, {
        type: 'exchange-answered',
        epoch: 0,
        answer: answerFor(bob),
      });
      expect(state.session).toBeUndefined();
      expect(effects).toEqual([
        { type: 'revoke', accessToken: 'access-1' },
        {
          type: 'reject',
          requests: [1],
          failure: {
            code: 'ERR_SESSION_CLEARED',
            message: 'The session changed while it was being authorized',
          },
        },
      ]);
    });
  });

  describe('R9 refresh broadcast', () => {
    it('R9: a newer token for the subject is held and sent to the other verified tabs', () => {
      const [verifiedBoth] = run(started(), token('t2', alice));
      const [state, effects] = run(verifiedBoth, token('t1', aliceNewer));
      expect(state.identity?.claims.exp).toBe(aliceNewer.exp);
      expect(effects[0]).toEqual({
        type: 'broadcast',
        event: {
          type: 'identity-token-refreshed',
          sessionVersion: 1,
          identityToken: `alice@${aliceNewer.exp}`,
          claims: aliceNewer,
        },
        to: { kind: 'verified-except', tabId: 't1' },
        awaited: true,
      });
    });

    it('R9: an older token never replaces a newer one', () => {
      const [newer] = run(started(NOW + 60_000, aliceNewer), token('t2', alice));
      expect(newer.identity?.claims.exp).toBe(aliceNewer.exp);
    });
  });

  describe('R10 worker restarts', () => {
    it('R10: a restored token of the session subject re-verifies the tab without a broadcast', () => {
      const session = started();
      const [restored] = run(connected('t1'), {
        type: 'restored',
        stored: { sessionVersion: 1, lastClear: { sessionVersion: 0 }, session: session.session },
        now: NOW,
      });
      const [state, effects] = run(restored, {
        type: 'identity-restored',
        tabId: 't1',
        token: 'alice',
        claims: alice,
        knownSessionVersion: 1,
        now: NOW,
      });
      expect(verifiedSubject(state, 't1')).toEqual({ iss: 'idp', sub: 'alice' });
      expect(effects.some((e) => e.type === 'broadcast')).toBe(false);
    });
  });
});
