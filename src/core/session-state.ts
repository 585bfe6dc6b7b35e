// The session rules (R3–R10) as a pure state machine: `step(state, event)` returns the next state
// and the effects to run. No I/O, no clock, no promises: time arrives on events, and the engine
// (session-engine.ts) runs the effects and feeds their outcomes back as events.
import type { ErrorCode } from './errors.ts';
import { type ClearReason, type IdentityClaims, type Subject, type WorkerEvent } from './protocol.ts';
import type { SessionRecord, StoredState } from './store.ts';
import { sameSubject } from './subject.ts';

/** A request the engine holds open until the session answers it (an id the engine chooses). */
export type RequestId = number;

/** What the engine knows of one connected tab. */
export interface TabEntry {
  /** Set once the tab itself presented a valid token since it connected (R3). */
  readonly verifiedAs?: Subject;
  /** The tab shows the conversation and wants its live entries (R12). */
  readonly followsEntries?: boolean;
}

/** The session's identity token, in memory only (R3). */
export interface HeldIdentity {
  readonly token: string;
  readonly claims: IdentityClaims;
}

/** The one exchange in flight (R4, R5). */
export interface Exchange {
  /** The session version it started in. Its answers count only while this exchange is current. */
  readonly epoch: number;
  /** `saving` once its record is in memory and being stored. */
  readonly phase: 'exchanging' | 'opening' | 'saving';
  /** Renews an existing session rather than starting one. */
  readonly renews: boolean;
}

export interface SessionState {
  /** How long a grace window lasts (R6). */
  readonly graceMs: number;
  /** Grows on every change of the session: a clear, a start, a renewal. It is the epoch. */
  readonly sessionVersion: number;
  /** The version the last clear produced: a tab that knows no later one missed that clear (R7). */
  readonly clearedVersion: number;
  readonly lastClearReason?: ClearReason;
  readonly session?: Readonly<SessionRecord>;
  /** The newest identity token for the current subject (R9). */
  readonly identity?: HeldIdentity;
  readonly tabs: Readonly<Record<string, TabEntry>>;
  readonly exchange?: Exchange;
  /** Set while a grace window is open (R6). */
  readonly graceDeadline?: number;
  /** Requests waiting for the exchange in flight or, in a grace window, for a token. */
  readonly waiting: readonly RequestId[];
  /** The version of the clear whose wipe is under way: another clear shares it. */
  readonly clearing?: number;
}

/** What an exchange answered (R4). */
export interface ExchangeAnswer {
  readonly accessToken: string;
  readonly expiresAt: number;
  readonly subject: Subject;
}

/** Why requests are refused: a coded error, or what an effect threw. */
export type Failure = { readonly code: ErrorCode; readonly message: string } | { readonly thrown: unknown };

export type SessionEvent =
  /** The store's state, read when the worker (re)started (R10). */
  | { readonly type: 'restored'; readonly stored: StoredState; readonly now: number }
  | { readonly type: 'tab-connected'; readonly tabId: string }
  | { readonly type: 'tab-disconnected'; readonly tabId: string }
  | { readonly type: 'tab-follows'; readonly tabId: string; readonly follows: boolean }
  /** A tab presented a token the verifier accepted (R3, R8, R9). */
  | {
      readonly type: 'identity-verified';
      readonly tabId: string;
      readonly token: string;
      readonly claims: IdentityClaims;
      readonly now: number;
    }
  /** A tab re-presented its token to a restarted worker (R10); it may have expired. */
  | {
      readonly type: 'identity-restored';
      readonly tabId: string;
      readonly token: string;
      readonly claims: IdentityClaims;
      readonly knownSessionVersion: number;
      readonly now: number;
    }
  /**
   * A request needs the session with a valid authorization token (R4, R5, R6). An `interactive`
   * one may open a grace window; the live stream is no interaction and is refused instead.
   */
  | {
      readonly type: 'access-needed';
      readonly request: RequestId;
      readonly interactive: boolean;
      readonly now: number;
    }
  | { readonly type: 'exchange-answered'; readonly epoch: number; readonly answer: ExchangeAnswer }
  | {
      readonly type: 'conversation-opened';
      readonly epoch: number;
      readonly answer: ExchangeAnswer;
      readonly conversationId: string;
    }
  /** The exchange, or opening its conversation, failed. */
  | { readonly type: 'exchange-failed'; readonly epoch: number; readonly error: unknown }
  | { readonly type: 'session-saved'; readonly epoch: number }
  | { readonly type: 'session-save-failed'; readonly epoch: number; readonly error: unknown }
  /** The server refused an authorization token (401): the next request renews (R5). */
  | { readonly type: 'access-token-refused'; readonly accessToken?: string }
  /** The live stream cached entries up to `seq` (R12). */
  | { readonly type: 'stream-advanced'; readonly conversationId: string; readonly seq: number }
  | { readonly type: 'grace-timer-fired' }
  | { readonly type: 'clear-requested'; readonly reason: ClearReason; readonly endSession: boolean }
  | { readonly type: 'clear-done'; readonly sessionVersion: number };

/** Which tabs hear an event: every tab, the verified ones, or the verified ones but one. */
export type Audience =
  | { readonly kind: 'all' }
  | { readonly kind: 'verified' }
  | { readonly kind: 'verified-except'; readonly tabId: string };

export type SessionEffect =
  | { readonly type: 'exchange'; readonly epoch: number; readonly identityToken: string }
  | { readonly type: 'open-conversation'; readonly epoch: number; readonly answer: ExchangeAnswer }
  /** Stores the record an exchange produced, answered by `session-saved` or `session-save-failed`. */
  | { readonly type: 'persist-session'; readonly epoch: number; readonly record: SessionRecord }
  /**
   * Stores the record, nothing to answer (a grace deadline, the stream's position); `awaited`: the
   * caller waits for the write (the stream reads on once its position is stored).
   */
  | { readonly type: 'save-session'; readonly record: SessionRecord; readonly awaited: boolean }
  /** Gives back an authorization token nobody will use (best effort). */
  | { readonly type: 'revoke'; readonly accessToken: string }
  /** Ends a conversation that could not be stored, then revokes its token (best effort). */
  | { readonly type: 'discard-session'; readonly accessToken: string; readonly conversationId: string }
  /**
   * Makes a clear durable and known (R7): tells every tab, wipes the store, then ends (when asked)
   * and revokes the previous session; answered by `clear-done`.
   */
  | {
      readonly type: 'wipe';
      readonly sessionVersion: number;
      readonly reason: ClearReason;
      readonly previous?: { readonly accessToken: string; readonly conversationId: string };
      readonly endSession: boolean;
    }
  /** `awaited`: the caller's answer waits for the tabs' confirmations. */
  | {
      readonly type: 'broadcast';
      readonly event: WorkerEvent;
      readonly to: Audience;
      readonly awaited: boolean;
    }
  | { readonly type: 'set-grace-timer'; readonly deadline: number }
  | { readonly type: 'cancel-grace-timer' }
  | { readonly type: 'release'; readonly requests: readonly RequestId[]; readonly session: SessionRecord }
  | { readonly type: 'reject'; readonly requests: readonly RequestId[]; readonly failure: Failure }
  /** Refuses the event's caller. */
  | { readonly type: 'refuse'; readonly failure: Failure }
  | { readonly type: 'reset-outbox' }
  | { readonly type: 'deliver-outbox'; readonly background: boolean }
  /** The set of following verified tabs, or the session, may have changed (R12). */
  | { readonly type: 'update-live-stream' }
  | { readonly type: 'stop-live-stream' };

export type Step = readonly [SessionState, readonly SessionEffect[]];

/** The state of a worker that has not read its store yet. */
export function initialState(graceMs: number): SessionState {
  return { graceMs, sessionVersion: 0, clearedVersion: 0, tabs: {}, waiting: [] };
}

/** The subject of the session, or of the held identity before a session starts. */
export function currentSubject(state: SessionState): Subject | undefined {
  return state.session?.subject ?? state.identity?.claims;
}

/** The tab's subject, if it is verified as the current subject (R3). */
export function verifiedSubject(state: SessionState, tabId: string): Subject | undefined {
  const verifiedAs = state.tabs[tabId]?.verifiedAs;
  const current = currentSubject(state);
  if (!verifiedAs || (current && !sameSubject(current, verifiedAs))) return undefined;
  return verifiedAs;
}

/** True when some tab has proved who it is (R3): one that could present a new token. */
export function someTabVerified(state: SessionState): boolean {
  return Object.values(state.tabs).some((tab) => tab.verifiedAs !== undefined);
}

/** True when the held identity token has not expired. */
export function hasUsableIdentity(state: SessionState, now: number): boolean {
  return state.identity !== undefined && state.identity.claims.exp * 1000 > now;
}

const cleared = (message: string): Failure => ({ code: 'ERR_SESSION_CLEARED', message });

/** The next state and the effects to run, for one event. Pure. */
export function step(state: SessionState, event: SessionEvent): Step {
  switch (event.type) {
    case 'restored':
      return restored(state, event.stored, event.now);
    case 'tab-connected':
      if (state.tabs[event.tabId]) return [state, []];
      return [{ ...state, tabs: { ...state.tabs, [event.tabId]: {} } }, []];
    case 'tab-disconnected': {
      const { [event.tabId]: _gone, ...tabs } = state.tabs;
      return [{ ...state, tabs }, [{ type: 'update-live-stream' }]];
    }
    case 'tab-follows': {
      const tab = state.tabs[event.tabId];
      if (!tab) return [state, []];
      const next = {
        ...state,
        tabs: { ...state.tabs, [event.tabId]: { ...tab, followsEntries: event.follows } },
      };
      return [next, [{ type: 'update-live-stream' }]];
    }
    case 'identity-verified':
      return identityVerified(state, event);
    case 'identity-restored': {
      const current = currentSubject(state);
      if (
        event.knownSessionVersion < state.clearedVersion ||
        (current && !sameSubject(current, event.claims))
      ) {
        return [
          state,
          [{ type: 'refuse', failure: cleared('The session this token belonged to was cleared') }],
        ];
      }
      return adopt(verify(state, event.tabId, event.claims), event, false);
    }
    case 'access-needed':
      return accessNeeded(state, event.request, event.interactive, event.now);
    case 'exchange-answered':
      return exchangeAnswered(state, event.epoch, event.answer);
    case 'conversation-opened':
      if (state.exchange?.epoch !== event.epoch) return staleAnswer(state, event.answer.accessToken);
      return adoptRecord(state, event.answer, event.conversationId);
    case 'exchange-failed':
      if (state.exchange?.epoch !== event.epoch) return [state, []];
      return settle({ ...state, exchange: undefined }, { thrown: event.error });
    case 'session-saved':
      return sessionSaved(state, event.epoch);
    case 'session-save-failed':
      return sessionSaveFailed(state, event.epoch, event.error);
    case 'access-token-refused': {
      const { session } = state;
      if (!session || (event.accessToken !== undefined && session.accessToken !== event.accessToken)) {
        return [state, []];
      }
      return [{ ...state, session: { ...session, accessTokenExpiresAt: 0 } }, []];
    }
    case 'stream-advanced': {
      const { session } = state;
      if (session?.conversationId !== event.conversationId) return [state, []];
      const record = { ...session, streamSeq: Math.max(session.streamSeq ?? 0, event.seq) };
      return [{ ...state, session: record }, [{ type: 'save-session', record, awaited: true }]];
    }
    case 'grace-timer-fired':
      if (state.graceDeadline === undefined) return [state, []];
      return clear(state, 'identity-token-timeout', false);
    case 'clear-requested':
      return clear(state, event.reason, event.endSession);
    case 'clear-done':
      if (state.clearing !== event.sessionVersion) return [state, []];
      return [{ ...state, clearing: undefined }, []];
  }
}

/** A restarted worker takes up what the store kept, its grace deadline included (R6, R10). */
function restored(state: SessionState, stored: StoredState, now: number): Step {
  const next: SessionState = {
    ...state,
    sessionVersion: stored.sessionVersion,
    clearedVersion: stored.lastClear.sessionVersion,
    ...(stored.lastClear.reason === undefined ? {} : { lastClearReason: stored.lastClear.reason }),
    ...(stored.session === undefined ? {} : { session: stored.session }),
  };
  // What the last worker left in the outbox goes out now (R12).
  const effects: SessionEffect[] = next.session ? [{ type: 'deliver-outbox', background: true }] : [];
  const deadline = next.session?.graceDeadline;
  if (deadline === undefined) return [next, effects];
  // A grace window was open when the worker stopped: keep its deadline, fire no second event.
  if (now >= deadline) return then([next, effects], (s) => clear(s, 'identity-token-timeout', false));
  return [{ ...next, graceDeadline: deadline }, [...effects, { type: 'set-grace-timer', deadline }]];
}

/** A token for another subject first clears the old session (R8); then the tab is verified (R3). */
function identityVerified(
  state: SessionState,
  event: Extract<SessionEvent, { type: 'identity-verified' }>,
): Step {
  const current = currentSubject(state);
  const switched: Step =
    current && !sameSubject(current, event.claims) ? clear(state, 'user-switch', false) : [state, []];
  return then(switched, (s) => adopt(verify(s, event.tabId, event.claims), event, true));
}

function verify(state: SessionState, tabId: string, claims: IdentityClaims): SessionState {
  // The tab may have gone while its token was being verified.
  const tab = state.tabs[tabId];
  if (!tab) return state;
  const verifiedAs = { iss: claims.iss, sub: claims.sub };
  return { ...state, tabs: { ...state.tabs, [tabId]: { ...tab, verifiedAs } } };
}

/**
 * Holds the token as the session's identity when it is newer (R9), tells the other verified tabs
 * of a refresh when `announce`, and ends a grace window it makes usable (R6).
 */
function adopt(
  state: SessionState,
  given: { tabId: string; token: string; claims: IdentityClaims; now: number },
  announce: boolean,
): Step {
  const held = state.identity;
  const sameHolder = held !== undefined && sameSubject(held.claims, given.claims);
  if (held && sameHolder && held.claims.exp >= given.claims.exp) return [state, []];
  const claims = { sub: given.claims.sub, iss: given.claims.iss, exp: given.claims.exp };
  const next: SessionState = { ...state, identity: { token: given.token, claims } };
  const effects: SessionEffect[] = [];
  if (sameHolder && announce) {
    effects.push({
      type: 'broadcast',
      event: {
        type: 'identity-token-refreshed',
        sessionVersion: next.sessionVersion,
        identityToken: given.token,
        claims,
      },
      to: { kind: 'verified-except', tabId: given.tabId },
      awaited: true,
    });
  }
  const ended: Step =
    next.graceDeadline !== undefined && hasUsableIdentity(next, given.now)
      ? endGrace(next, given.now)
      : [next, []];
  return then([ended[0], [...effects, ...ended[1]]], (s) => [
    s,
    // Delivery may have waited for a usable authorization (R12); a paused stream resumes (R6).
    [
      ...(s.session ? [{ type: 'deliver-outbox', background: false } as const] : []),
      { type: 'update-live-stream' },
    ],
  ]);
}

/** A usable token arrived in the grace window: close it and renew for every waiting request (R6). */
function endGrace(state: SessionState, now: number): Step {
  const effects: SessionEffect[] = [{ type: 'cancel-grace-timer' }];
  let next: SessionState = { ...state, graceDeadline: undefined };
  if (next.session) {
    const { graceDeadline: _closed, ...record } = next.session;
    next = { ...next, session: record };
    effects.push({ type: 'save-session', record, awaited: false });
  }
  return then([next, effects], (s) => exchangeOrWait(s, undefined, now));
}

/** A request for the session with a valid authorization token (R4, R5, R6). */
function accessNeeded(state: SessionState, request: RequestId, interactive: boolean, now: number): Step {
  const { session } = state;
  if (session && session.accessTokenExpiresAt > now) {
    return [state, [{ type: 'release', requests: [request], session }]];
  }
  if (!interactive && !hasUsableIdentity(state, now) && !state.exchange) {
    const failure = {
      code: 'ERR_TOKEN_EXPIRED',
      message: 'Both tokens expired: waiting for a new one',
    } as const;
    return [state, [{ type: 'reject', requests: [request], failure }]];
  }
  return exchangeOrWait(state, request, now);
}

/** Joins the exchange in flight, starts one with a usable token, or waits in a grace window (R6). */
function exchangeOrWait(state: SessionState, request: RequestId | undefined, now: number): Step {
  const waiting = request === undefined ? state.waiting : [...state.waiting, request];
  if (state.exchange) return [{ ...state, waiting }, []];
  if (state.identity && hasUsableIdentity(state, now)) {
    const exchange: Exchange = { epoch: state.sessionVersion, phase: 'exchanging', renews: !!state.session };
    return [
      { ...state, waiting, exchange },
      [{ type: 'exchange', epoch: exchange.epoch, identityToken: state.identity.token }],
    ];
  }
  if (state.graceDeadline !== undefined) return [{ ...state, waiting }, []];
  // Both tokens expired: announce it once per window (R6).
  const deadline = now + state.graceMs;
  const effects: SessionEffect[] = [{ type: 'set-grace-timer', deadline }];
  let session = state.session;
  if (session) {
    session = { ...session, graceDeadline: deadline };
    effects.push({ type: 'save-session', record: session, awaited: false });
  }
  effects.push({
    type: 'broadcast',
    event: { type: 'identity-token-expired', sessionVersion: state.sessionVersion, deadline },
    to: { kind: 'verified' },
    awaited: false,
  });
  return [{ ...state, waiting, graceDeadline: deadline, ...(session ? { session } : {}) }, effects];
}

/** An answer for an exchange that is no more (a clear came between): give its token back. */
function staleAnswer(state: SessionState, accessToken: string): Step {
  return [state, [{ type: 'revoke', accessToken }]];
}

function exchangeAnswered(state: SessionState, epoch: number, answer: ExchangeAnswer): Step {
  const { exchange } = state;
  if (exchange?.epoch !== epoch) return staleAnswer(state, answer.accessToken);
  const subject = currentSubject(state);
  if (!subject || !sameSubject(subject, answer.subject)) {
    const [next, effects] = settle(
      { ...state, exchange: undefined },
      cleared('The session changed while it was being authorized'),
    );
    return [next, [{ type: 'revoke', accessToken: answer.accessToken }, ...effects]];
  }
  if (state.session) return adoptRecord(state, answer, state.session.conversationId);
  return [
    { ...state, exchange: { ...exchange, phase: 'opening' } },
    [{ type: 'open-conversation', epoch, answer }],
  ];
}

/** The exchange's record goes into memory at once, and to the store (R4). */
function adoptRecord(state: SessionState, answer: ExchangeAnswer, conversationId: string): Step {
  const { exchange } = state;
  if (!exchange) return [state, []];
  const resumed = state.session;
  const record: SessionRecord = {
    subject: { iss: answer.subject.iss, sub: answer.subject.sub },
    accessToken: answer.accessToken,
    accessTokenExpiresAt: answer.expiresAt,
    conversationId,
    sessionVersion: state.sessionVersion + 1,
    // A renewal keeps how far the live stream got (R12).
    ...(resumed?.streamSeq === undefined ? {} : { streamSeq: resumed.streamSeq }),
  };
  return [
    {
      ...state,
      session: record,
      sessionVersion: record.sessionVersion,
      exchange: { ...exchange, phase: 'saving', renews: resumed !== undefined },
    },
    [{ type: 'persist-session', epoch: exchange.epoch, record }],
  ];
}

function sessionSaved(state: SessionState, epoch: number): Step {
  const { exchange, session } = state;
  if (exchange?.epoch !== epoch || !session) return [state, []];
  const effects: SessionEffect[] = [{ type: 'update-live-stream' }];
  if (!exchange.renews) {
    const { sessionVersion, conversationId, subject } = session;
    effects.push({
      type: 'broadcast',
      event: { type: 'session-started', sessionVersion, conversationId, subject },
      to: { kind: 'verified' },
      awaited: false,
    });
  }
  const [next, released] = settle({ ...state, exchange: undefined }, undefined);
  return [next, [...effects, ...released]];
}

/**
 * A renewal stays usable from memory (a restart renews again). A new session that is not on disk
 * would vanish with a restart (R4, R10): it is not started, and its requests are told why.
 */
function sessionSaveFailed(state: SessionState, epoch: number, error: unknown): Step {
  const { exchange, session } = state;
  if (exchange?.epoch !== epoch || !session) return [state, []];
  if (exchange.renews) return settle({ ...state, exchange: undefined }, undefined);
  const { accessToken, conversationId } = session;
  const [next, effects] = settle({ ...state, exchange: undefined, session: undefined }, { thrown: error });
  return [next, [{ type: 'discard-session', accessToken, conversationId }, ...effects]];
}

/** Answers every waiting request: with the session, or refused with `failure`. */
function settle(state: SessionState, failure: Failure | undefined): Step {
  const requests = state.waiting;
  const next = { ...state, waiting: [] };
  if (requests.length === 0) return [next, []];
  if (failure) return [next, [{ type: 'reject', requests, failure }]];
  if (!state.session) return [next, [{ type: 'reject', requests, failure: noSession }]];
  return [next, [{ type: 'release', requests, session: state.session }]];
}

const noSession: Failure = { code: 'ERR_NO_SESSION', message: 'No session: start a conversation first' };

/**
 * Clears the session (R7): nothing of it stays in memory, every waiting request is refused, and a
 * `wipe` makes it durable and known. A clear under way is shared while nothing came since: a tab
 * verified, a token, a request or a grace window meanwhile is cleared again (R7, R8).
 */
function clear(state: SessionState, reason: ClearReason, endSession: boolean): Step {
  if (state.clearing !== undefined && isClean(state)) return [state, []];
  const sessionVersion = state.sessionVersion + 1;
  const previous = state.session;
  // The outbox first: nothing of a cleared session is sent from here on (logout wins, R12).
  const effects: SessionEffect[] = [{ type: 'reset-outbox' }];
  if (state.graceDeadline !== undefined) effects.push({ type: 'cancel-grace-timer' });
  effects.push({ type: 'stop-live-stream' });
  if (state.waiting.length > 0) {
    effects.push({
      type: 'reject',
      requests: state.waiting,
      failure: cleared(`The session was cleared (${reason})`),
    });
  }
  effects.push({
    type: 'wipe',
    sessionVersion,
    reason,
    endSession,
    ...(previous
      ? { previous: { accessToken: previous.accessToken, conversationId: previous.conversationId } }
      : {}),
  });
  const tabs = Object.fromEntries(Object.keys(state.tabs).map((tabId) => [tabId, {}]));
  return [
    {
      graceMs: state.graceMs,
      sessionVersion,
      clearedVersion: sessionVersion,
      lastClearReason: reason,
      tabs,
      waiting: [],
      clearing: sessionVersion,
    },
    effects,
  ];
}

function isClean(state: SessionState): boolean {
  return (
    !state.session &&
    !state.identity &&
    !state.exchange &&
    state.graceDeadline === undefined &&
    state.waiting.length === 0 &&
    !someTabVerified(state)
  );
}

/** Runs `next` on the state `first` produced, the effects of both in order. */
function then(first: Step, next: (state: SessionState) => Step): Step {
  const [state, effects] = next(first[0]);
  return [state, [...first[1], ...effects]];
}
