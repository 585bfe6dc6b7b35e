import type { AuthorizationClient } from './authorization-client.ts';
import { systemClock, type Clock } from './clock.ts';
import type { ConversationClient } from './conversation-client.ts';
import { TabwardenError } from './errors.ts';
import { DEFAULT_GRACE_MS } from './grace-window.ts';
import { LiveEntryRelay } from './live-entry-relay.ts';
import {
  CLIENT_MESSAGE_ID_LIMIT,
  isClientMessageId,
  isMessageText,
  MESSAGE_TEXT_LIMIT,
} from './message-rules.ts';
import { Outbox } from './outbox.ts';
import {
  type ClearReason,
  type ConversationEntry,
  type ConversationInfo,
  type IdentityClaims,
  type OutboxMessage,
  type SentMessage,
  type TabListener,
  type TabState,
  type WorkerEvent,
} from './protocol.ts';
import {
  initialState,
  someTabVerified,
  step,
  verifiedSubject,
  type Failure,
  type RequestId,
  type SessionEffect,
  type SessionEvent,
  type SessionState,
  type TabEntry,
} from './session-state.ts';
import type { OutboxItem, SessionRecord, SessionStore } from './store.ts';
import { TabBroadcaster, type BroadcastAudience } from './tab-broadcaster.ts';
import type { IdentityTokenVerifier, VerifiedIdentity } from './verify-identity-token.ts';

/** What the engine is built from. Everything with a side effect is injected. */
export interface SessionEngineOptions {
  verifier: IdentityTokenVerifier;
  authorization: AuthorizationClient;
  conversations: ConversationClient;
  store: SessionStore;
  clock?: Clock;
  /** How long a new identity token may take after the expiry event (R6). Default 30 s. */
  graceMs?: number;
  /** How long a clear waits for each tab's confirmation (R7). Default 2 s. */
  ackTimeoutMs?: number;
  /** Longest accepted message text, in code points. Default {@link MESSAGE_TEXT_LIMIT} (4,000). */
  maxMessageLength?: number;
  /**
   * Asks the browser to deliver the outbox later, even with no tab open: a service worker
   * registers a Background Sync (R12). Without it, delivery waits for a tab or a restart.
   */
  requestBackgroundDelivery?: () => void;
  /** The outbox's first retry after a network failure, doubling up to 30 s. Default 1 s. */
  outboxRetryMs?: number;
}

/** A request waiting for the session (R4, R5, R6); the reducer knows it by its id. */
interface Waiter {
  resolve(session: SessionRecord): void;
  reject(error: unknown): void;
}

/** The claims a tab learns of a token. */
function claimsOf(claims: VerifiedIdentity): IdentityClaims {
  return { sub: claims.sub, iss: claims.iss, exp: claims.exp };
}

function errorOf(failure: Failure): unknown {
  return 'thrown' in failure ? failure.thrown : new TabwardenError(failure.code, failure.message);
}

/**
 * The verified-session engine every tab shares (R3–R10, R12). The rules live in a pure reducer
 * (session-state.ts); this shell runs its effects (exchange, store, broadcast, timers, the outbox
 * and the live stream) and feeds their outcomes back as events. It knows nothing of transports:
 * a host (service worker, SharedWorker, in-page leader, or a test) connects tabs with
 * {@link SessionEngine.connectTab} and relays calls and events.
 *
 * @example
 * ```ts
 * const engine = await SessionEngine.create({ verifier, authorization, conversations, store });
 * engine.connectTab('tab-1');
 * await engine.setIdentityToken('tab-1', identityToken);
 * const { conversationId } = await engine.startConversation('tab-1');
 * ```
 */
export class SessionEngine {
  readonly #options: SessionEngineOptions;
  readonly #clock: Clock;
  readonly #maxMessageLength: number;
  readonly #tabs: TabBroadcaster;
  readonly #background = new Set<Promise<unknown>>();
  #state: SessionState;
  readonly #waiters = new Map<RequestId, Waiter>();
  #nextRequest = 1;
  /** The wipe under way (R7): a clear the reducer shares answers with its outcome. */
  #clearing: Promise<number> | undefined;
  #cancelGraceTimer: (() => void) | undefined;
  readonly #outbox: Outbox;
  /** The one live stream of entries, while a verified tab follows them (R12). */
  readonly #liveEntries: LiveEntryRelay;

  private constructor(options: SessionEngineOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#state = initialState(options.graceMs ?? DEFAULT_GRACE_MS);
    this.#maxMessageLength = options.maxMessageLength ?? MESSAGE_TEXT_LIMIT;
    this.#tabs = new TabBroadcaster(this.#clock, options.ackTimeoutMs ?? 2_000);
    // Like every session event, only for tabs that proved who they are (R3).
    const toVerified = (event: WorkerEvent) => void this.#broadcast(event, { kind: 'verified' });
    this.#outbox = new Outbox({
      store: options.store,
      clock: this.#clock,
      post: (item) => this.#postFromOutbox(item),
      belongs: (item) =>
        item.clearedVersion === this.#state.clearedVersion &&
        item.conversationId === this.#state.session?.conversationId,
      changed: (messages) =>
        toVerified({ type: 'outbox-changed', sessionVersion: this.#state.sessionVersion, messages }),
      delivered: (entry) =>
        toVerified({ type: 'message-delivered', sessionVersion: this.#state.sessionVersion, entry }),
      connectivity: (online) =>
        toVerified({ type: 'connectivity', sessionVersion: this.#state.sessionVersion, online }),
      ...(options.requestBackgroundDelivery
        ? { requestBackgroundDelivery: options.requestBackgroundDelivery }
        : {}),
      ...(options.outboxRetryMs === undefined ? {} : { retryMs: options.outboxRetryMs }),
    });
    this.#liveEntries = new LiveEntryRelay({
      clock: this.#clock,
      conversations: options.conversations,
      store: options.store,
      state: () => this.#state,
      reaches: (to) => this.#tabs.reaches(this.#state.tabs, to),
      broadcast: (event, to) => this.#broadcast(event, to),
      withAccessToken: (call, signal) => this.#withAccessToken(call, { interactive: false, signal }),
      accessTokenRefused: (accessToken) => void this.#dispatch({ type: 'access-token-refused', accessToken }),
      advanced: (conversationId, seq) => this.#dispatch({ type: 'stream-advanced', conversationId, seq }),
      cache: (entries, clearedBefore) => this.#cache(entries, clearedBefore),
      inBackground: (work) => this.#inBackground(work),
    });
  }

  /** Creates an engine and restores the session from the store (R4, R10). */
  static async create(options: SessionEngineOptions): Promise<SessionEngine> {
    const engine = new SessionEngine(options);
    const stored = await options.store.loadState();
    await engine.#dispatch({ type: 'restored', stored, now: engine.#clock.now() });
    return engine;
  }

  /** The current session version; grows on every change of the session (R7). */
  get sessionVersion(): number {
    return this.#state.sessionVersion;
  }

  // ---- tabs ----

  /** Registers a tab. It starts unverified (R3). */
  connectTab(tabId: string): void {
    this.#dispatch({ type: 'tab-connected', tabId });
  }

  /** Forgets a tab that went away. */
  disconnectTab(tabId: string): void {
    this.#tabs.unsubscribe(tabId);
    this.#dispatch({ type: 'tab-disconnected', tabId });
  }

  /** Sets the tab's event listener. */
  subscribe(tabId: string, listener: TabListener): void {
    this.#tab(tabId);
    this.#tabs.subscribe(tabId, listener);
  }

  /** The shared state as one tab sees it. */
  getState(tabId: string): TabState {
    const { verifiedAs } = this.#tab(tabId);
    const { sessionVersion, lastClearReason, session, graceDeadline } = this.#state;
    const state: TabState = { sessionVersion, verified: verifiedAs !== undefined };
    if (lastClearReason) state.lastClearReason = lastClearReason;
    if (verifiedAs) state.subject = verifiedAs;
    if (verifiedAs && session) state.conversationId = session.conversationId;
    if (verifiedAs && graceDeadline !== undefined) state.graceDeadline = graceDeadline;
    return state;
  }

  // ---- identity tokens (R2, R3, R8, R9) ----

  /**
   * Verifies `token` for `tabId`. A refused token rejects with its code and changes nothing
   * (R2). A token for another subject first clears the old session everywhere (R8); a newer
   * token for the same subject is adopted and sent to every other verified tab (R9), and ends a
   * grace window, releasing every waiting request (R6). Answered once the clear is durable and
   * the other tabs hold the new token too.
   */
  async setIdentityToken(tabId: string, token: unknown): Promise<IdentityClaims> {
    this.#tab(tabId);
    const claims = claimsOf(await this.#options.verifier.verify(token));
    // The tab may have gone while the token was being verified.
    this.#tab(tabId);
    const now = this.#clock.now();
    await this.#dispatch({ type: 'identity-verified', tabId, token: token as string, claims, now });
    return claims;
  }

  /**
   * A tab re-presents its in-memory token to a restarted worker (R10), with the last session
   * version it knew. The token may have expired meanwhile (the grace window then decides). It is
   * refused with ERR_SESSION_CLEARED when the session was cleared since that version — the tab
   * missed the clear while the worker was down (R7) — or belongs to another subject (R8).
   */
  async restoreIdentityToken(
    tabId: string,
    token: unknown,
    knownSessionVersion: unknown,
  ): Promise<IdentityClaims> {
    this.#tab(tabId);
    if (typeof knownSessionVersion !== 'number' || !Number.isSafeInteger(knownSessionVersion)) {
      throw new TabwardenError('ERR_INVALID_ARGUMENT', 'knownSessionVersion must be an integer');
    }
    const claims = claimsOf(await this.#options.verifier.verify(token, { allowExpired: true }));
    this.#tab(tabId);
    const now = this.#clock.now();
    void this.#dispatch({
      type: 'identity-restored',
      tabId,
      token: token as string,
      claims,
      knownSessionVersion,
      now,
    });
    return claims;
  }

  // ---- the session (R4, R5, R6) ----

  /** Starts the session, or resumes it: one exchange however many tabs ask at once (R4). */
  async startConversation(tabId: string): Promise<ConversationInfo> {
    this.#requireVerified(tabId);
    const session = await this.#authorizedSession(true);
    return {
      conversationId: session.conversationId,
      subject: session.subject,
      sessionVersion: this.#state.sessionVersion,
    };
  }

  /**
   * Posts a message with the session's authorization (R5, R6). Offline, or while the server fails,
   * it answers at once with the message pending in the outbox, delivered later (R12).
   */
  async sendMessage(tabId: string, text: unknown, clientMessageId: unknown): Promise<SentMessage> {
    const maxLength = this.#maxMessageLength;
    if (!isMessageText(text, maxLength)) {
      throw new TabwardenError('ERR_INVALID_ARGUMENT', `Message text must be 1 to ${maxLength} characters`);
    }
    const id = this.#messageId(clientMessageId);
    this.#requireVerified(tabId);
    const session = this.#requireSession();
    // Every message goes through the outbox, so it survives a worker stop and keeps its place
    // behind the ones written before it (R12).
    const outcome = await this.#outbox.add({
      clientMessageId: id,
      conversationId: session.conversationId,
      text,
      createdAt: this.#clock.now(),
      clearedVersion: this.#state.clearedVersion,
      status: 'pending',
    });
    if (outcome.kind === 'delivered') return outcome.entry;
    if (outcome.kind === 'pending') return outcome.message;
    throw outcome.error;
  }

  /**
   * Posts one message of the outbox (R12). Logout wins: a post starts only while the message's
   * session exists, so nothing is sent once a clear began. One already on the wire is answered
   * truthfully: the server stored it, so it is delivered, though nothing of it is cached after the
   * wipe (R7). With both tokens expired while the network is known down (or no tab could answer)
   * it is no interaction: it waits rather than open a grace window nobody can close (R6).
   */
  async #postFromOutbox(item: OutboxItem): Promise<ConversationEntry> {
    const clearedBefore = this.#state.clearedVersion;
    // Only a grace window someone can close: the network is not known down and a tab could
    // present a new token. Otherwise, with both tokens expired, the reducer refuses at once.
    const interactive = this.#outbox.online !== false && someTabVerified(this.#state);
    const entry = await this.#withAccessToken(
      (accessToken) => {
        if (this.#state.clearedVersion !== clearedBefore) {
          throw new TabwardenError(
            'ERR_SESSION_CLEARED',
            'The session was cleared: the message was not sent',
          );
        }
        const { clientMessageId, text } = item;
        return this.#options.conversations.postMessage(accessToken, item.conversationId, {
          clientMessageId,
          text,
        });
      },
      { interactive },
    );
    // The server has it: whatever happens to the cache (a clear meanwhile, a full or deleted
    // store), the sender is told the truth, that it was delivered.
    await this.#cache([entry], clearedBefore).catch(() => undefined);
    return entry;
  }

  /** The outbox: messages pending or refused, in delivery order (R12). */
  async listOutbox(tabId: string): Promise<OutboxMessage[]> {
    this.#requireVerified(tabId);
    return this.#outbox.list();
  }

  /** Puts a refused message back in line, or prompts delivery of a pending one (R12). */
  async retryMessage(tabId: string, clientMessageId: unknown): Promise<void> {
    this.#requireVerified(tabId);
    await this.#outbox.retry(this.#messageId(clientMessageId));
  }

  /** Drops a message from the outbox: it is never sent (R12). */
  async discardMessage(tabId: string, clientMessageId: unknown): Promise<void> {
    this.#requireVerified(tabId);
    await this.#outbox.discard(this.#messageId(clientMessageId));
  }

  /** A tab's browser says the network is back: try the outbox now (R12). Not proof of it. */
  networkOnline(): void {
    if (this.#state.session) this.#outbox.networkMayBeBack();
  }

  /**
   * Delivers the outbox; resolves true once nothing is left pending. A service worker's
   * Background Sync `sync` event waits for it, and fails when it resolves false, so that the
   * browser tries again later (R12).
   */
  async deliverOutbox(): Promise<boolean> {
    if (!this.#state.session) return (await this.#outbox.list()).length === 0;
    return this.#outbox.deliver();
  }

  #messageId(clientMessageId: unknown): string {
    if (!isClientMessageId(clientMessageId)) {
      throw new TabwardenError(
        'ERR_INVALID_ARGUMENT',
        `clientMessageId must be 1 to ${CLIENT_MESSAGE_ID_LIMIT} printable ASCII characters`,
      );
    }
    return clientMessageId;
  }

  /** Entries after `afterSeq`; offline, the cached ones (R12: a network failure is no auth failure). */
  async listEntries(tabId: string, afterSeq: unknown): Promise<ConversationEntry[]> {
    if (typeof afterSeq !== 'number' || !Number.isInteger(afterSeq) || afterSeq < 0) {
      throw new TabwardenError('ERR_INVALID_ARGUMENT', 'afterSeq must be a non-negative integer');
    }
    const { store, conversations } = this.#options;
    const clearedBefore = this.#state.clearedVersion;
    try {
      const entries = await this.#authorized(tabId, (accessToken, session) =>
        conversations.listEntries(accessToken, session.conversationId, afterSeq),
      );
      await this.#cache(entries, clearedBefore);
      return entries;
    } catch (error) {
      const session = this.#state.session;
      if (!(error instanceof TabwardenError) || error.code !== 'ERR_NETWORK' || !session) throw error;
      return store.listEntries(session.conversationId, afterSeq);
    }
  }

  /**
   * Caches entries for offline reading (R12), unless the session was cleared while they were on
   * their way: nothing of a cleared session may be written after the wipe, nor handed to a tab (R7).
   */
  async #cache(entries: ConversationEntry[], clearedBefore: number): Promise<void> {
    const cleared = () => {
      throw new TabwardenError('ERR_SESSION_CLEARED', 'The session was cleared during the request');
    };
    if (this.#state.clearedVersion !== clearedBefore) cleared();
    // Only a cache for offline reading: a full or deleted store must not fail what the server answered.
    await this.#options.store.putEntries(entries).catch(() => undefined);
    if (this.#state.clearedVersion !== clearedBefore) cleared();
  }

  /**
   * The tab follows the conversation's live entries (`afterSeq` a number) or stops following
   * (`false`). However many tabs follow, the worker holds one server stream; entries read from
   * it are cached, then sent to every following verified tab as an `entries` event (R12).
   * Resolves with the cached entries after `afterSeq`, so that with the live ones the tab misses
   * none. Following is no interaction: with both tokens expired the stream pauses until a
   * token arrives, without opening a grace window (R6).
   */
  async followEntries(tabId: string, afterSeq: unknown): Promise<ConversationEntry[]> {
    if (afterSeq === false) {
      this.#tab(tabId);
      this.#dispatch({ type: 'tab-follows', tabId, follows: false });
      return [];
    }
    if (typeof afterSeq !== 'number' || !Number.isInteger(afterSeq) || afterSeq < 0) {
      throw new TabwardenError('ERR_INVALID_ARGUMENT', 'afterSeq must be a non-negative integer or false');
    }
    this.#requireVerified(tabId);
    this.#dispatch({ type: 'tab-follows', tabId, follows: true });
    const session = this.#state.session;
    // Registered first: an entry sent after this reaches the tab live, one sent before is in the answer.
    return session ? this.#liveEntries.entriesAfter(session.conversationId, afterSeq) : [];
  }

  /** Runs `call` for a verified tab with a valid authorization token (R5). */
  #authorized<T>(
    tabId: string,
    call: (accessToken: string, session: SessionRecord) => Promise<T>,
  ): Promise<T> {
    this.#requireVerified(tabId);
    return this.#withAccessToken(call);
  }

  /**
   * Runs `call` with a valid authorization token; on a 401, expires that token (unless another
   * request replaced it meanwhile), renews once and replays (R5). An `interactive` call may wait
   * out a grace window (R6); the live stream's is refused instead. Its outcome tells the outbox
   * whether the server can be reached (R12); one its `signal` aborted tells nothing.
   */
  async #withAccessToken<T>(
    call: (accessToken: string, session: SessionRecord) => Promise<T>,
    { interactive = true, signal }: { interactive?: boolean; signal?: AbortSignal } = {},
  ): Promise<T> {
    try {
      const result = await this.#replayingOnce(call, interactive);
      this.#outbox.serverReached();
      return result;
    } catch (error) {
      if (!signal?.aborted) this.#outbox.requestFailed(error);
      throw error;
    }
  }

  async #replayingOnce<T>(
    call: (accessToken: string, session: SessionRecord) => Promise<T>,
    interactive: boolean,
  ): Promise<T> {
    const accessToken = await this.#accessToken(interactive);
    try {
      return await call(accessToken, this.#requireSession());
    } catch (error) {
      if (!(error instanceof TabwardenError) || error.code !== 'ERR_AUTHORIZATION_FAILED') throw error;
      this.#dispatch({ type: 'access-token-refused', accessToken });
      return call(await this.#accessToken(interactive), this.#requireSession());
    }
  }

  /** A valid authorization token: the current one, a silently renewed one (R5), or after the grace wait (R6). */
  async #accessToken(interactive: boolean): Promise<string> {
    this.#requireSession();
    return (await this.#authorizedSession(interactive)).accessToken;
  }

  /**
   * The session with a valid authorization token, as the reducer answers: at once, after the one
   * exchange in flight (R4, R5), or after a grace window (R6) when `interactive`.
   */
  #authorizedSession(interactive: boolean): Promise<SessionRecord> {
    return new Promise<SessionRecord>((resolve, reject) => {
      const request = this.#nextRequest++;
      this.#waiters.set(request, { resolve, reject });
      this.#dispatch({ type: 'access-needed', request, interactive, now: this.#clock.now() });
    });
  }

  // ---- clearing (R7) ----

  /**
   * Wipes the session from memory and the store, ends the conversation on the server when asked,
   * revokes the authorization token (best effort), and resolves once every live tab confirmed.
   */
  async clearSession(tabId: string, shouldEndSession = false): Promise<{ sessionVersion: number }> {
    this.#tab(tabId);
    return { sessionVersion: await this.#clear('logout', shouldEndSession) };
  }

  /**
   * The database was deleted under the worker (site data cleared, `Clear-Site-Data`): the session
   * goes with it in every tab, rather than being written back (R7). Wire it to the store's
   * `onDeleted`.
   */
  async storageDeleted(): Promise<void> {
    await this.#clear('storage-cleared', false);
  }

  /** Clears, or shares the clear under way (the reducer decides), and resolves its version. */
  #clear(reason: ClearReason, endSession: boolean): Promise<number> {
    void this.#dispatch({ type: 'clear-requested', reason, endSession });
    return this.#clearing ?? Promise.resolve(this.#state.sessionVersion);
  }

  /**
   * Makes a clear durable and known: tabs hear of it while the wipe is made durable, and both must
   * finish before it resolves. Ending and revoking the old session follow, best effort.
   */
  #wipe(wipe: Extract<SessionEffect, { type: 'wipe' }>): Promise<number> {
    const { store, authorization, conversations } = this.#options;
    const { sessionVersion, reason, previous, endSession } = wipe;
    const told = this.#broadcast({ type: 'session-cleared', sessionVersion, reason }, { kind: 'all' });
    if (previous) {
      const { accessToken, conversationId } = previous;
      const endThenRevoke = async () => {
        // Best effort, once the tabs confirmed, in a task of its own: starting a request holds
        // the worker's thread for a moment that the confirmations and the caller's answer need.
        await told;
        // A task boundary, not a time (deadlines go through the injected clock).
        await new Promise<void>((resolve) => setTimeout(resolve, 0));
        if (endSession) await conversations.end(accessToken, conversationId).catch(() => undefined);
        await authorization.revoke(accessToken);
      };
      this.#inBackground(endThenRevoke());
    }
    const wiping = (async () => {
      try {
        await store.clearSession(sessionVersion, reason);
        await told;
        return sessionVersion;
      } finally {
        this.#dispatch({ type: 'clear-done', sessionVersion });
      }
    })();
    this.#clearing = wiping;
    const release = () => {
      if (this.#clearing === wiping) this.#clearing = undefined;
    };
    wiping.then(release, release);
    return wiping;
  }

  // ---- effects ----

  /**
   * Steps the reducer and runs its effects in order. Resolves once the effects the caller's answer
   * waits for are done (a wipe, a refresh the other tabs confirm, a write).
   */
  #dispatch(event: SessionEvent): Promise<void> {
    const [state, effects] = step(this.#state, event);
    this.#state = state;
    const awaited: Promise<unknown>[] = [];
    let refusal: Failure | undefined;
    for (const effect of effects) {
      if (effect.type === 'refuse') refusal = effect.failure;
      else {
        const done = this.#run(effect);
        if (done) awaited.push(done);
      }
    }
    const all = Promise.all(awaited).then(() => undefined);
    // Handled here as well: a caller that does not wait (a timer, a restore) must not leave it unhandled.
    all.catch(() => undefined);
    // The caller's answer, thrown in its own turn, and only once every other effect ran: none is
    // skipped, so no waiter is left behind.
    if (refusal) throw errorOf(refusal);
    return all;
  }

  #run(effect: Exclude<SessionEffect, { type: 'refuse' }>): Promise<unknown> | undefined {
    const { authorization, conversations, store } = this.#options;
    switch (effect.type) {
      case 'exchange': {
        const { epoch } = effect;
        this.#feed(
          authorization.exchange(effect.identityToken).then(
            (answer): SessionEvent => ({ type: 'exchange-answered', epoch, answer }),
            (error: unknown): SessionEvent => ({ type: 'exchange-failed', epoch, error }),
          ),
        );
        return undefined;
      }
      case 'open-conversation': {
        const { epoch, answer } = effect;
        this.#feed(
          conversations.open(answer.accessToken).then(
            ({ conversationId }): SessionEvent => ({
              type: 'conversation-opened',
              epoch,
              answer,
              conversationId,
            }),
            (error: unknown): SessionEvent => ({ type: 'exchange-failed', epoch, error }),
          ),
        );
        return undefined;
      }
      case 'persist-session': {
        const { epoch } = effect;
        this.#feed(
          store.saveSession(effect.record).then(
            (): SessionEvent => ({ type: 'session-saved', epoch }),
            (error: unknown): SessionEvent => ({ type: 'session-save-failed', epoch, error }),
          ),
        );
        return undefined;
      }
      case 'save-session': {
        const saved = store.saveSession(effect.record);
        this.#inBackground(saved);
        return effect.awaited ? saved : undefined;
      }
      case 'revoke':
        this.#inBackground(authorization.revoke(effect.accessToken));
        return undefined;
      case 'discard-session': {
        const { accessToken, conversationId } = effect;
        const end = conversations.end(accessToken, conversationId).catch(() => undefined);
        this.#inBackground(end.then(() => authorization.revoke(accessToken)));
        return undefined;
      }
      case 'wipe':
        return this.#wipe(effect);
      case 'broadcast': {
        const told = this.#broadcast(effect.event, effect.to);
        if (effect.awaited) return told;
        // Background work: a service worker stays up until the tabs confirmed a start, so that
        // their acks do not restart a version the browser stops to activate a new one (R10).
        if (effect.event.type === 'session-started') this.#inBackground(told);
        return undefined;
      }
      case 'set-grace-timer':
        this.#cancelGraceTimer?.();
        this.#cancelGraceTimer = this.#clock.setTimer(
          () => void this.#dispatch({ type: 'grace-timer-fired' }).catch(() => undefined),
          Math.max(0, effect.deadline - this.#clock.now()),
        );
        return undefined;
      case 'cancel-grace-timer':
        this.#cancelGraceTimer?.();
        this.#cancelGraceTimer = undefined;
        return undefined;
      case 'release':
      case 'reject':
        for (const request of effect.requests) {
          const waiter = this.#waiters.get(request);
          this.#waiters.delete(request);
          if (effect.type === 'release') waiter?.resolve(effect.session);
          else waiter?.reject(errorOf(effect.failure));
        }
        return undefined;
      case 'reset-outbox':
        this.#outbox.reset();
        return undefined;
      case 'deliver-outbox':
        if (effect.background) this.#inBackground(this.#outbox.deliver());
        else void this.#outbox.deliver();
        return undefined;
      case 'update-live-stream':
        this.#liveEntries.update();
        return undefined;
      case 'stop-live-stream':
        this.#liveEntries.stop();
        return undefined;
    }
  }

  /** Feeds an effect's outcome back to the reducer. */
  #feed(outcome: Promise<SessionEvent>): void {
    void outcome.then((event) => this.#dispatch(event)).catch(() => undefined);
  }

  // ---- plumbing ----

  /** Sends `event` to the tabs `to` selects, and resolves once each confirmed or timed out. */
  #broadcast(event: WorkerEvent, to: BroadcastAudience): Promise<void> {
    return this.#tabs.broadcast(event, this.#state.tabs, to);
  }

  /** Work the caller need not wait for (revocation, persisting a deadline); see {@link whenIdle}. */
  #inBackground(work: Promise<unknown>): void {
    const tracked = work.catch(() => undefined).finally(() => this.#background.delete(tracked));
    this.#background.add(tracked);
  }

  /**
   * Resolves when background work (best-effort revocation, writes) is done. A service worker
   * host passes this to `event.waitUntil` so the browser does not stop it half-way.
   */
  async whenIdle(): Promise<void> {
    while (this.#background.size > 0) await Promise.all(this.#background);
  }

  #tab(tabId: string): TabEntry {
    const tab = this.#state.tabs[tabId];
    if (!tab) throw new TabwardenError('ERR_INVALID_ARGUMENT', `Unknown tab ${tabId}`);
    return tab;
  }

  #requireVerified(tabId: string): void {
    this.#tab(tabId);
    if (!verifiedSubject(this.#state, tabId)) {
      throw new TabwardenError('ERR_NOT_VERIFIED', 'This tab has not presented a valid identity token');
    }
  }

  #requireSession(): SessionRecord {
    const { session } = this.#state;
    if (!session) throw new TabwardenError('ERR_NO_SESSION', 'No session: start a conversation first');
    return session;
  }
}
