import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { IdentityClaims } from '../../src/core/protocol.ts';
import {
  initialState,
  step,
  type RequestId,
  type SessionEffect,
  type SessionEvent,
  type SessionState,
} from '../../src/core/session-state.ts';

// The reducer alone, driven like the engine drives it: the test plays the shell, answering the
// effects it chose to answer (exchange, conversation, store, wipe, grace timer) in any order.
const START = Date.parse('2030-01-01T00:00:00Z');
const GRACE_MS = 30_000;
const ACCESS_MS = 30_000;
const TABS = ['t0', 't1', 't2'];
const at = (seconds: number) => START / 1000 + seconds;
const TOKENS: Record<string, IdentityClaims> = {
  alice: { iss: 'idp', sub: 'alice', exp: at(600) },
  aliceShort: { iss: 'idp', sub: 'alice', exp: at(45) },
  aliceNewer: { iss: 'idp', sub: 'alice', exp: at(1200) },
  bob: { iss: 'idp', sub: 'bob', exp: at(600) },
};

type Action =
  | { kind: 'token' | 'restore'; tab: number; token: string; known: number }
  | { kind: 'access'; interactive: boolean }
  | { kind: 'answer'; pick: number; ok: boolean }
  | { kind: 'clear' | 'refused' | 'advanced' | 'connect' | 'gone' | 'follow'; tab: number }
  | { kind: 'advance'; ms: number };

const tab = fc.nat({ max: TABS.length - 1 });
const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constantFrom('token' as const, 'token' as const, 'restore' as const),
      tab,
      token: fc.constantFrom(...Object.keys(TOKENS)),
      known: fc.nat({ max: 8 }),
    }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('access' as const), interactive: fc.boolean() }) },
  {
    weight: 5,
    arbitrary: fc.record({ kind: fc.constant('answer' as const), pick: fc.nat(), ok: fc.boolean() }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constantFrom('clear', 'refused', 'advanced', 'connect', 'gone', 'follow') as fc.Arbitrary<
        'clear' | 'refused' | 'advanced' | 'connect' | 'gone' | 'follow'
      >,
      tab,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      ms: fc.constantFrom(1_000, 20_000, 40_000, 120_000),
    }),
  },
);

/** Effects the shell answers with an event later. */
type Answerable = Extract<
  SessionEffect,
  { type: 'exchange' | 'open-conversation' | 'persist-session' | 'wipe' }
>;

/** The test's shell: runs the reducer, keeps the effects to answer, and checks every step. */
class Harness {
  state: SessionState = initialState(GRACE_MS);
  now = START;
  outstanding: Answerable[] = [];
  /** Which identity token each exchange was started with (its subject answers). */
  timer: number | undefined;
  opened = new Set<RequestId>();
  settled = new Set<RequestId>();
  nextRequest = 1;
  nextToken = 1;

  dispatch(event: SessionEvent): readonly SessionEffect[] {
    const before = this.state;
    const [after, effects] = step(before, event);
    this.state = after;
    checkStep(before, after, event, effects);
    for (const effect of effects) this.#record(before, effect);
    return effects;
  }

  #record(before: SessionState, effect: SessionEffect): void {
    switch (effect.type) {
      case 'exchange':
      case 'open-conversation':
      case 'persist-session':
      case 'wipe':
        this.outstanding.push(effect);
        break;
      case 'set-grace-timer':
        this.timer = effect.deadline;
        break;
      case 'cancel-grace-timer':
        this.timer = undefined;
        break;
      case 'release':
      case 'reject':
        for (const request of effect.requests) {
          // Every request is answered once, and only one that was asked.
          check(this.opened.has(request) && !this.settled.has(request), 'a request answered once');
          this.settled.add(request);
        }
        break;
      case 'broadcast':
        // At most one expiry event per grace window (R6).
        if (effect.event.type === 'identity-token-expired') {
          check(before.graceDeadline === undefined, 'one expiry event per grace window');
        }
        break;
      default:
        break;
    }
  }

  /** Answers one outstanding effect, as the engine would feed back its outcome. */
  answer(index: number, ok: boolean): void {
    const [effect] = this.outstanding.splice(index, 1);
    if (!effect) return;
    const before = this.state;
    let effects: readonly SessionEffect[];
    switch (effect.type) {
      case 'exchange': {
        if (!ok) {
          this.dispatch({
            type: 'exchange-failed',
            epoch: effect.epoch,
            error: new Error('offline'),
          });
          return;
        }
        const claims = tokenClaims(effect.identityToken);
        const answer = {
          accessToken: `access-${this.nextToken++}`,
          expiresAt: this.now + ACCESS_MS,
          subject: { iss: claims.iss, sub: claims.sub },
        };
        effects = this.dispatch({ type: 'exchange-answered', epoch: effect.epoch, answer });
        if (before.exchange?.epoch !== effect.epoch)
          expectRevoked(before, this.state, effects, answer.accessToken);
        return;
      }
      case 'open-conversation':
        if (!ok) {
          this.dispatch({ type: 'exchange-failed', epoch: effect.epoch, error: new Error('offline') });
          return;
        }
        effects = this.dispatch({
          type: 'conversation-opened',
          epoch: effect.epoch,
          answer: effect.answer,
          conversationId: `conversation-${this.nextToken++}`,
        });
        if (before.exchange?.epoch !== effect.epoch) {
          expectRevoked(before, this.state, effects, effect.answer.accessToken);
        }
        return;
      case 'persist-session':
        this.dispatch(
          ok
            ? { type: 'session-saved', epoch: effect.epoch }
            : { type: 'session-save-failed', epoch: effect.epoch, error: new Error('quota') },
        );
        return;
      case 'wipe':
        this.dispatch({ type: 'clear-done', sessionVersion: effect.sessionVersion });
        return;
    }
  }

  advance(ms: number): void {
    this.now += ms;
    if (this.timer !== undefined && this.now >= this.timer) {
      this.timer = undefined;
      this.dispatch({ type: 'grace-timer-fired' });
    }
  }

  run(action: Action): void {
    const tabId = 'tab' in action ? TABS[action.tab]! : '';
    switch (action.kind) {
      case 'token': {
        const claims = TOKENS[action.token]!;
        // The verifier refuses an expired token before the engine sees it.
        if (claims.exp * 1000 <= this.now) return;
        this.dispatch({ type: 'identity-verified', tabId, token: action.token, claims, now: this.now });
        return;
      }
      case 'restore':
        this.dispatch({
          type: 'identity-restored',
          tabId,
          token: action.token,
          claims: TOKENS[action.token]!,
          knownSessionVersion: action.known,
          now: this.now,
        });
        return;
      case 'access': {
        const request = this.nextRequest++;
        this.opened.add(request);
        this.dispatch({ type: 'access-needed', request, interactive: action.interactive, now: this.now });
        return;
      }
      case 'answer':
        if (this.outstanding.length > 0) this.answer(action.pick % this.outstanding.length, action.ok);
        return;
      case 'clear':
        this.dispatch({ type: 'clear-requested', reason: 'logout', endSession: false });
        return;
      case 'refused':
        this.dispatch({ type: 'access-token-refused', accessToken: this.state.session?.accessToken });
        return;
      case 'advanced':
        if (this.state.session) {
          this.dispatch({
            type: 'stream-advanced',
            conversationId: this.state.session.conversationId,
            seq: 3,
          });
        }
        return;
      case 'connect':
        this.dispatch({ type: 'tab-connected', tabId });
        return;
      case 'gone':
        this.dispatch({ type: 'tab-disconnected', tabId });
        return;
      case 'follow':
        this.dispatch({ type: 'tab-follows', tabId, follows: true });
        return;
      case 'advance':
        this.advance(action.ms);
        return;
    }
  }

  /** Answers everything left, and lets every grace window run out. */
  drain(): void {
    for (let round = 0; round < 50; round++) {
      if (this.outstanding.length > 0) this.answer(0, true);
      else if (this.timer !== undefined) this.advance(GRACE_MS + 1);
      else return;
    }
    throw new Error('the reducer did not come to rest');
  }
}

/** A cheap assertion: ten thousand runs of vitest's `expect` per step would take too long. */
function check(condition: boolean, invariant: string): asserts condition {
  if (!condition) throw new Error(`invariant broken: ${invariant}`);
}

function tokenClaims(token: string): IdentityClaims {
  const claims = TOKENS[token];
  if (!claims) throw new Error(`unknown token ${token}`);
  return claims;
}

/** A stale answer is revoked, never adopted. */
function expectRevoked(
  before: SessionState,
  after: SessionState,
  effects: readonly SessionEffect[],
  accessToken: string,
): void {
  check(
    effects.some((e) => e.type === 'revoke' && e.accessToken === accessToken),
    'a stale answer is revoked',
  );
  check(after.session === before.session && after.sessionVersion === before.sessionVersion, 'never adopted');
}

function checkStep(
  before: SessionState,
  after: SessionState,
  event: SessionEvent,
  effects: readonly SessionEffect[],
): void {
  // Versions only grow.
  check(after.sessionVersion >= before.sessionVersion, 'the session version only grows');
  check(after.clearedVersion >= before.clearedVersion, 'the cleared version only grows');
  // One subject per session among verified tabs, and it is the session's and the identity's (R3, R8).
  const subjects = new Set(
    Object.values(after.tabs).flatMap((t) =>
      t.verifiedAs ? [`${t.verifiedAs.iss} ${t.verifiedAs.sub}`] : [],
    ),
  );
  check(subjects.size <= 1, 'one subject among verified tabs');
  const [verified] = [...subjects];
  const session = after.session && `${after.session.subject.iss} ${after.session.subject.sub}`;
  const identity = after.identity && `${after.identity.claims.iss} ${after.identity.claims.sub}`;
  check(!verified || !session || verified === session, "verified tabs hold the session's subject");
  check(!verified || !identity || verified === identity, "verified tabs hold the identity's subject");
  check(!session || !identity || session === identity, 'the identity is of the session subject');
  // No request left waiting: something in flight will answer every waiting one.
  check(
    after.waiting.length === 0 || after.exchange !== undefined || after.graceDeadline !== undefined,
    'a waiting request has an exchange or a grace window to answer it',
  );
  // One exchange in flight (R4).
  const exchanges = effects.filter((e) => e.type === 'exchange');
  check(exchanges.length === 0 || (exchanges.length === 1 && before.exchange === undefined), 'single flight');
  // Nothing of a cleared session is left (R7). A user switch verifies the new tab in the same step.
  const wipe = effects.find((e) => e.type === 'wipe');
  if (wipe) {
    check(after.clearedVersion === wipe.sessionVersion && !after.exchange && !after.session, 'cleared');
    check(after.graceDeadline === undefined && after.waiting.length === 0, 'no grace window after a clear');
    // A user switch verifies the new subject's tab in the same step; any other clear leaves none.
    if (event.type !== 'identity-verified') {
      check(!after.identity, 'no identity after a clear');
      check(subjects.size === 0, 'no verified tab after a clear');
    }
  }
  // A grace window has a timer, and a stored deadline when a session exists (R6).
  check(
    after.graceDeadline === undefined ||
      !after.session ||
      after.session.graceDeadline === after.graceDeadline,
    'a grace deadline is kept with the session',
  );
}

describe('session-state reducer under random interleavings', () => {
  it('R3-R9 invariants: one subject per session, no request left waiting, nothing left after a clear, versions only grow', () => {
    let runs = 0;
    fc.assert(
      fc.property(fc.array(action, { minLength: 1, maxLength: 40 }), (actions) => {
        runs++;
        const harness = new Harness();
        for (const tabId of TABS) harness.dispatch({ type: 'tab-connected', tabId });
        for (const next of actions) harness.run(next);
        harness.drain();
        // Every request asked for was answered, once.
        expect([...harness.opened].filter((request) => !harness.settled.has(request))).toEqual([]);
        expect(harness.state.waiting).toEqual([]);
      }),
      { numRuns: 10_000 },
    );
    expect(runs).toBeGreaterThanOrEqual(10_000);
  });
});
