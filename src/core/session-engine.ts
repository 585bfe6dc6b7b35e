import type { AuthorizationClient } from './authorization-client.ts';
import { systemClock, within, type Clock } from './clock.ts';
import type { ConversationClient } from './conversation-client.ts';
import { TabwardenError } from './errors.ts';
import { followLiveEntries, type LiveEntryStream } from './live-entry-stream.ts';
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
  type Subject,
  type TabListener,
  type TabState,
  type WorkerEvent,
} from './protocol.ts';
import type { OutboxItem, SessionRecord, SessionStore } from './store.ts';
import { sameSubject } from './subject.ts';
import type { IdentityTokenVerifier, VerifiedIdentity } from './verify-identity-token.ts';
import { DEFAULT_GRACE_MS } from './grace-window.ts';

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

interface TabRecord {
  /** Set once the tab itself presented a valid token since it connected (R3). */
  verifiedAs?: Subject;
  listener?: TabListener;
  /** The tab shows the conversation and wants its live entries (R12). */
  followsEntries?: boolean;
}

interface Waiter {
  resolve(accessToken: string): void;
  reject(error: unknown): void;
}

function subjectOf(claims: VerifiedIdentity): Subject {
  return { iss: claims.iss, sub: claims.sub };
}

/** The claims a tab learns of a token. */
function claimsOf(claims: VerifiedIdentity): IdentityClaims {
  return { sub: claims.sub, iss: claims.iss, exp: claims.exp };
}

/**
 * The verified-session state machine every tab shares (R3–R9). It knows nothing of transports:
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
  readonly #graceMs: number;
  readonly #ackTimeoutMs: number;
  readonly #maxMessageLength: number;
  readonly #tabs = new Map<string, TabRecord>();
  readonly #background = new Set<Promise<unknown>>();
  #sessionVersion = 0;
  /** The version the last clear produced: a tab that knows no later one missed that clear. */
  #clearedVersion = 0;
  #lastClearReason: ClearReason | undefined;
  #session: SessionRecord | undefined;
  /** The newest identity token for the current subject, in memory only (R3). */
  #identity: { token: string; claims: VerifiedIdentity } | undefined;
  #exchange: Promise<SessionRecord> | undefined;
  #clearing: Promise<number> | undefined;
  #waiters: Waiter[] = [];
  /** Identity changes apply one at a time: a user switch's clear must not interleave with another token. */
  #identityQueue: Promise<unknown> = Promise.resolve();
  #graceDeadline: number | undefined;
  #cancelGraceTimer: (() => void) | undefined;
  readonly #outbox: Outbox;
  /** The one live stream of entries, while a verified tab follows them (R12). */
  #liveStream: LiveEntryStream | undefined;
  /** Live entries already sent to the tabs whose cache write is not done yet. */
  #uncached: ConversationEntry[] = [];

  private constructor(options: SessionEngineOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
    this.#ackTimeoutMs = options.ackTimeoutMs ?? 2_000;
    this.#maxMessageLength = options.maxMessageLength ?? MESSAGE_TEXT_LIMIT;
    const verified = (_id: string, tab: TabRecord) => tab.verifiedAs !== undefined;
    this.#outbox = new Outbox({
      store: options.store,
      clock: this.#clock,
      post: (item) => this.#postFromOutbox(item),
      belongs: (item) =>
        item.clearedVersion === this.#clearedVersion && item.conversationId === this.#session?.conversationId,
      changed: (messages) =>
        void this.#broadcast(
          { type: 'outbox-changed', sessionVersion: this.#sessionVersion, messages },
          verified,
        ),
      delivered: (entry) =>
        void this.#broadcast(
          { type: 'message-delivered', sessionVersion: this.#sessionVersion, entry },
          verified,
        ),
      // Like every session event, only for tabs that proved who they are (R3).
      connectivity: (online) =>
        void this.#broadcast(
          { type: 'connectivity', sessionVersion: this.#sessionVersion, online },
          verified,
        ),
      ...(options.requestBackgroundDelivery
        ? { requestBackgroundDelivery: options.requestBackgroundDelivery }
        : {}),
      ...(options.outboxRetryMs === undefined ? {} : { retryMs: options.outboxRetryMs }),
    });
  }

  /** Creates an engine and restores the session from the store (R4, R10). */
  static async create(options: SessionEngineOptions): Promise<SessionEngine> {
    const engine = new SessionEngine(options);
    await engine.#restore();
    return engine;
  }

  async #restore(): Promise<void> {
    const { store } = this.#options;
    const { sessionVersion, lastClear, session } = await store.loadState();
    this.#sessionVersion = sessionVersion;
    this.#clearedVersion = lastClear.sessionVersion;
    this.#lastClearReason = lastClear.reason;
    this.#session = session;
    // What the last worker left in the outbox goes out now (R12), in the background.
    if (this.#session) this.#inBackground(this.#outbox.deliver());
    const deadline = this.#session?.graceDeadline;
    if (deadline === undefined) return;
    // A grace window was open when the worker stopped: keep its deadline, fire no second event.
    if (this.#clock.now() >= deadline) await this.#clear('identity-token-timeout', false);
    else this.#openGraceTimer(deadline);
  }

  /** The current session version; grows on every change of the session (R7). */
  get sessionVersion(): number {
    return this.#sessionVersion;
  }

  // ---- tabs ----

  /** Registers a tab. It starts unverified (R3). */
  connectTab(tabId: string): void {
    if (!this.#tabs.has(tabId)) this.#tabs.set(tabId, {});
  }

  /** Forgets a tab that went away. */
  disconnectTab(tabId: string): void {
    this.#tabs.delete(tabId);
    this.#updateLiveStream();
  }

  /** Sets the tab's event listener. */
  subscribe(tabId: string, listener: TabListener): void {
    this.#tab(tabId).listener = listener;
  }

  /** The shared state as one tab sees it. */
  getState(tabId: string): TabState {
    const tab = this.#tab(tabId);
    const state: TabState = { sessionVersion: this.#sessionVersion, verified: tab.verifiedAs !== undefined };
    if (this.#lastClearReason) state.lastClearReason = this.#lastClearReason;
    if (tab.verifiedAs) state.subject = tab.verifiedAs;
    if (tab.verifiedAs && this.#session) state.conversationId = this.#session.conversationId;
    if (tab.verifiedAs && this.#graceDeadline !== undefined) state.graceDeadline = this.#graceDeadline;
    return state;
  }

  // ---- identity tokens (R2, R3, R8, R9) ----

  /**
   * Verifies `token` for `tabId`. A refused token rejects with its code and changes nothing
   * (R2). A token for another subject first clears the old session everywhere (R8); a newer
   * token for the same subject is adopted and sent to every other verified tab (R9), and ends a
   * grace window, releasing every waiting request (R6).
   */
  async setIdentityToken(tabId: string, token: unknown): Promise<IdentityClaims> {
    this.#tab(tabId);
    const claims = await this.#options.verifier.verify(token);
    return this.#applyIdentity(async () => {
      const subject = subjectOf(claims);
      const current = this.#currentSubject();
      if (current && !sameSubject(current, subject)) await this.#clear('user-switch', false);
      this.#verify(tabId, subject);
      const told = this.#adopt(tabId, token as string, claims, true);
      // Answered once the other tabs hold the new token too (R9): outside the identity queue,
      // so a frozen tab delays this answer only, never the next token.
      return { claims: claimsOf(claims), told };
    }).then(async ({ claims: verified, told }) => {
      await told;
      return verified;
    });
  }

  /** Runs `change` after every identity change before it (verification itself runs in parallel). */
  #applyIdentity<T>(change: () => Promise<T>): Promise<T> {
    const applied = this.#identityQueue.then(change);
    this.#identityQueue = applied.catch(() => undefined);
    return applied;
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
    const claims = await this.#options.verifier.verify(token, { allowExpired: true });
    return this.#applyIdentity(async () => {
      const current = this.#currentSubject();
      if (
        knownSessionVersion < this.#clearedVersion ||
        (current && !sameSubject(current, subjectOf(claims)))
      ) {
        throw new TabwardenError('ERR_SESSION_CLEARED', 'The session this token belonged to was cleared');
      }
      this.#verify(tabId, subjectOf(claims));
      void this.#adopt(tabId, token as string, claims, false);
      return claimsOf(claims);
    });
  }

  #verify(tabId: string, subject: Subject): void {
    // The tab may have gone (or been cleared) while the token was being verified.
    this.#tab(tabId).verifiedAs = subject;
  }

  /**
   * Holds `token` as the session's identity when it is newer. Resolves once the other verified
   * tabs confirmed a refresh it announced (bounded), so a tab's next provider call can see it.
   */
  #adopt(tabId: string, token: string, claims: VerifiedIdentity, announce: boolean): Promise<void> {
    const held = this.#identity;
    const sameHolder = held !== undefined && sameSubject(subjectOf(held.claims), subjectOf(claims));
    if (held && sameHolder && held.claims.exp >= claims.exp) return Promise.resolve();
    const replaced = sameHolder;
    this.#identity = { token, claims };
    let told = Promise.resolve();
    if (replaced && announce) {
      told = this.#broadcast(
        {
          type: 'identity-token-refreshed',
          sessionVersion: this.#sessionVersion,
          identityToken: token,
          claims: claimsOf(claims),
        },
        (id, tab) => id !== tabId && tab.verifiedAs !== undefined,
      );
    }
    if (this.#graceDeadline !== undefined && this.#usableIdentity()) this.#endGrace();
    // Delivery may have waited for a usable authorization (R12).
    if (this.#session) void this.#outbox.deliver();
    // A stream paused for want of a valid token resumes (R6: following is no interaction).
    this.#updateLiveStream();
    return told;
  }

  #currentSubject(): Subject | undefined {
    if (this.#session) return this.#session.subject;
    if (this.#identity) return subjectOf(this.#identity.claims);
    return undefined;
  }

  /** The in-memory identity token, if it has not expired. */
  #usableIdentity(): { token: string; claims: VerifiedIdentity } | undefined {
    const identity = this.#identity;
    return identity && identity.claims.exp * 1000 > this.#clock.now() ? identity : undefined;
  }

  // ---- the session (R4, R5, R6) ----

  /** Starts the session, or resumes it: one exchange however many tabs ask at once (R4). */
  async startConversation(tabId: string): Promise<ConversationInfo> {
    this.#requireVerified(tabId);
    const session = this.#session ?? (await this.#exchangeOrWait());
    if (this.#session === session) await this.#accessToken();
    return {
      conversationId: session.conversationId,
      subject: session.subject,
      sessionVersion: this.#sessionVersion,
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
      clearedVersion: this.#clearedVersion,
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
   * wipe (R7). Both tokens expired while the network is known down (or no tab could answer),
   * it waits rather than open a grace window nobody can close (R6).
   */
  async #postFromOutbox(item: OutboxItem): Promise<ConversationEntry> {
    const clearedBefore = this.#clearedVersion;
    const anyTabVerified = [...this.#tabs.values()].some((tab) => tab.verifiedAs !== undefined);
    if (!this.#renewable() && (this.#outbox.online === false || !anyTabVerified)) {
      throw new TabwardenError('ERR_TOKEN_EXPIRED', 'Both tokens expired: waiting for a new one');
    }
    const entry = await this.#withAccessToken((accessToken) => {
      if (this.#clearedVersion !== clearedBefore) {
        throw new TabwardenError('ERR_SESSION_CLEARED', 'The session was cleared: the message was not sent');
      }
      const { clientMessageId, text } = item;
      return this.#options.conversations.postMessage(accessToken, item.conversationId, {
        clientMessageId,
        text,
      });
    });
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
    if (this.#session) this.#outbox.networkMayBeBack();
  }

  /**
   * Delivers the outbox; resolves true once nothing is left pending. A service worker's
   * Background Sync `sync` event waits for it, and fails when it resolves false, so that the
   * browser tries again later (R12).
   */
  async deliverOutbox(): Promise<boolean> {
    if (!this.#session) return (await this.#outbox.list()).length === 0;
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
    const clearedBefore = this.#clearedVersion;
    try {
      const entries = await this.#authorized(tabId, (accessToken, session) =>
        conversations.listEntries(accessToken, session.conversationId, afterSeq),
      );
      await this.#cache(entries, clearedBefore);
      return entries;
    } catch (error) {
      const session = this.#session;
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
    if (this.#clearedVersion !== clearedBefore) cleared();
    // Only a cache for offline reading: a full or deleted store must not fail what the server answered.
    await this.#options.store.putEntries(entries).catch(() => undefined);
    if (this.#clearedVersion !== clearedBefore) cleared();
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
      this.#tab(tabId).followsEntries = false;
      this.#updateLiveStream();
      return [];
    }
    if (typeof afterSeq !== 'number' || !Number.isInteger(afterSeq) || afterSeq < 0) {
      throw new TabwardenError('ERR_INVALID_ARGUMENT', 'afterSeq must be a non-negative integer or false');
    }
    this.#requireVerified(tabId).followsEntries = true;
    this.#updateLiveStream();
    const session = this.#session;
    if (!session) return [];
    // Registered first: an entry sent after this reaches the tab live. One sent before but not
    // cached yet is taken from memory, looked at before the cache is read: by the time its write
    // is done (and it leaves #uncached) a read that starts later sees it.
    const uncached = this.#uncached.filter(
      (entry) => entry.conversationId === session.conversationId && entry.seq > afterSeq,
    );
    const cached = await this.#options.store.listEntries(session.conversationId, afterSeq);
    const bySeq = new Map([...cached, ...uncached].map((entry) => [entry.seq, entry]));
    return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  }

  /** Starts the live stream when a verified tab follows and a session exists; stops it otherwise. */
  #updateLiveStream(): void {
    const session = this.#session;
    const wanted =
      session !== undefined &&
      [...this.#tabs.values()].some(
        (tab) =>
          tab.followsEntries &&
          tab.listener &&
          tab.verifiedAs &&
          sameSubject(tab.verifiedAs, session.subject),
      );
    if (!wanted) {
      this.#liveStream?.stop();
      this.#liveStream = undefined;
      return;
    }
    if (this.#liveStream) return;
    const { conversationId } = session;
    const clearedBefore = this.#clearedVersion;
    // The session record is replaced on every renewal; the conversation and the clear count stay.
    const current = () => {
      const now = this.#session;
      if (!now || now.conversationId !== conversationId || this.#clearedVersion !== clearedBefore) {
        throw new TabwardenError('ERR_SESSION_CLEARED', 'The session changed');
      }
      return now;
    };
    const stream = followLiveEntries({
      afterSeq: session.streamSeq ?? 0,
      clock: this.#clock,
      open: (afterSeq, signal) => this.#openLiveStream(current, afterSeq, signal),
      onUnauthorized: () => {
        // The server ended the stream: its token expired or was revoked. The next open renews.
        const now = this.#session;
        if (now?.conversationId === conversationId) now.accessTokenExpiresAt = 0;
      },
      onEntries: (entries) => this.#deliverLiveEntries(current, entries, clearedBefore),
      onStop: () => {
        if (this.#liveStream === stream) this.#liveStream = undefined;
      },
    });
    this.#liveStream = stream;
  }

  /** Opens the server's stream with a valid authorization token, renewed once on a 401 (R5). */
  async #openLiveStream(
    current: () => SessionRecord,
    afterSeq: number,
    signal: AbortSignal,
  ): Promise<ReadableStream<Uint8Array>> {
    const { conversations } = this.#options;
    const open = async () => {
      const accessToken = await this.#streamAccessToken();
      try {
        const body = await conversations.openEvents(accessToken, current().conversationId, afterSeq, signal);
        // A request that reached the server: the outbox may go out now (R12).
        this.#outbox.serverReached();
        return body;
      } catch (error) {
        if (!signal.aborted) this.#outbox.requestFailed(error);
        throw error;
      }
    };
    try {
      return await open();
    } catch (error) {
      if (!(error instanceof TabwardenError) || error.code !== 'ERR_AUTHORIZATION_FAILED') throw error;
      current().accessTokenExpiresAt = 0;
      return open();
    }
  }

  /**
   * A valid authorization token for the stream: the current one, or a silent renewal (R5). With
   * both tokens expired it fails with ERR_TOKEN_EXPIRED instead of opening a grace window (R6).
   */
  #streamAccessToken(): Promise<string> {
    const session = this.#requireSession();
    if (session.accessTokenExpiresAt > this.#clock.now()) return Promise.resolve(session.accessToken);
    if (!this.#usableIdentity() && !this.#exchange) {
      return Promise.reject(
        new TabwardenError('ERR_TOKEN_EXPIRED', 'Both tokens expired: waiting for a new one'),
      );
    }
    return this.#exchangeOrWait().then((renewed) => renewed.accessToken);
  }

  /**
   * Sends entries the stream read to every following verified tab, then caches them and records
   * how far the stream got; the next entries wait for that. Sent first, so no tab waits on a
   * write; a worker stopped in between reads them again and the tabs keep each once by `seq`.
   * Nothing of a session cleared meanwhile is sent or written (R7).
   */
  async #deliverLiveEntries(
    current: () => SessionRecord,
    entries: ConversationEntry[],
    clearedBefore: number,
  ): Promise<void> {
    const { subject, conversationId } = current();
    const event: WorkerEvent = {
      type: 'entries',
      sessionVersion: this.#sessionVersion,
      conversationId,
      entries,
    };
    void this.#broadcast(
      event,
      (_id, tab) =>
        tab.followsEntries === true && tab.verifiedAs !== undefined && sameSubject(tab.verifiedAs, subject),
    );
    this.#uncached.push(...entries);
    const written = (async () => {
      try {
        await this.#cache(entries, clearedBefore);
      } finally {
        this.#uncached = this.#uncached.filter((entry) => !entries.includes(entry));
      }
      const session = current();
      session.streamSeq = Math.max(session.streamSeq ?? 0, ...entries.map((entry) => entry.seq));
      // Checked just above, in the same task: a clear's wipe is queued after this write.
      await this.#options.store.saveSession(session);
    })();
    // Background work too: a service worker stays up until the position is stored (whenIdle).
    this.#inBackground(written);
    await written;
  }

  /** True when a valid authorization token can be had without waiting for a tab (R5). */
  #renewable(): boolean {
    const session = this.#session;
    if (!session) return false;
    return (
      session.accessTokenExpiresAt > this.#clock.now() ||
      this.#usableIdentity() !== undefined ||
      !!this.#exchange
    );
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
   * Runs `call` with a valid authorization token; on a 401, renews once and replays (R5). Its
   * outcome tells the outbox whether the server can be reached (R12).
   */
  async #withAccessToken<T>(call: (accessToken: string, session: SessionRecord) => Promise<T>): Promise<T> {
    try {
      const result = await this.#replayingOnce(call);
      this.#outbox.serverReached();
      return result;
    } catch (error) {
      this.#outbox.requestFailed(error);
      throw error;
    }
  }

  async #replayingOnce<T>(call: (accessToken: string, session: SessionRecord) => Promise<T>): Promise<T> {
    const accessToken = await this.#accessToken();
    try {
      return await call(accessToken, this.#requireSession());
    } catch (error) {
      if (!(error instanceof TabwardenError) || error.code !== 'ERR_AUTHORIZATION_FAILED') throw error;
      const session = this.#requireSession();
      // Expire the refused token, unless another request already replaced it.
      if (session.accessToken === accessToken) session.accessTokenExpiresAt = 0;
      return call(await this.#accessToken(), this.#requireSession());
    }
  }

  /** A valid authorization token: the current one, a silently renewed one (R5), or after the grace wait (R6). */
  async #accessToken(): Promise<string> {
    const session = this.#requireSession();
    if (session.accessTokenExpiresAt > this.#clock.now()) return session.accessToken;
    return (await this.#exchangeOrWait()).accessToken;
  }

  #exchangeOrWait(): Promise<SessionRecord> {
    if (this.#exchange) return this.#exchange;
    const identity = this.#usableIdentity();
    if (identity) return this.#startExchange(identity.token);
    return this.#waitForIdentity().then(() => this.#requireSession());
  }

  /** Single flight: every caller shares the one exchange in progress (R4, R5). */
  #startExchange(identityToken: string): Promise<SessionRecord> {
    const { authorization, conversations, store } = this.#options;
    const version = this.#sessionVersion;
    const exchange = (async () => {
      const answer = await authorization.exchange(identityToken);
      const stale = () => this.#sessionVersion !== version;
      const subject = this.#currentSubject();
      // The answer belongs to a session that is no more: give its token back.
      const abandoned = (message: string) => {
        this.#inBackground(authorization.revoke(answer.accessToken));
        return new TabwardenError('ERR_SESSION_CLEARED', message);
      };
      if (stale() || !subject || !sameSubject(subject, answer.subject)) {
        throw abandoned('The session changed while it was being authorized');
      }
      const resumed = this.#session;
      const conversationId =
        resumed?.conversationId ?? (await conversations.open(answer.accessToken)).conversationId;
      if (stale()) throw abandoned('The session was cleared while it was being started');
      const record: SessionRecord = {
        subject,
        accessToken: answer.accessToken,
        accessTokenExpiresAt: answer.expiresAt,
        conversationId,
        sessionVersion: ++this.#sessionVersion,
        // A renewal keeps how far the live stream got (R12).
        ...(resumed?.streamSeq === undefined ? {} : { streamSeq: resumed.streamSeq }),
      };
      this.#session = record;
      try {
        await store.saveSession(record);
      } catch (error) {
        // A renewal stays usable from memory (a restart renews again). A new session that is
        // not on disk would vanish with a restart (R4, R10): it is not started, and the call says
        // why (ERR_STORAGE).
        if (resumed) return record;
        if (this.#session === record) this.#session = undefined;
        const end = conversations.end(answer.accessToken, conversationId).catch(() => undefined);
        this.#inBackground(end.then(() => authorization.revoke(answer.accessToken)));
        throw error;
      }
      this.#updateLiveStream();
      if (!resumed) {
        // Background work: a service worker stays up until the tabs confirmed it, so that their
        // acks do not restart a version the browser stops to activate a new one (R10).
        this.#inBackground(
          this.#broadcast(
            { type: 'session-started', sessionVersion: record.sessionVersion, conversationId, subject },
            (_id, tab) => tab.verifiedAs !== undefined,
          ),
        );
      }
      return record;
    })();
    this.#exchange = exchange;
    const release = () => {
      if (this.#exchange === exchange) this.#exchange = undefined;
    };
    exchange.then(release, release);
    return exchange;
  }

  /** Both tokens expired: announce it once per window and wait for a token or the deadline (R6). */
  #waitForIdentity(): Promise<void> {
    if (this.#graceDeadline === undefined) {
      const deadline = this.#clock.now() + this.#graceMs;
      this.#openGraceTimer(deadline);
      if (this.#session) {
        this.#session.graceDeadline = deadline;
        this.#inBackground(this.#options.store.saveSession(this.#session));
      }
      this.#broadcast(
        { type: 'identity-token-expired', sessionVersion: this.#sessionVersion, deadline },
        (_id, tab) => tab.verifiedAs !== undefined,
      );
    }
    return new Promise<string>((resolve, reject) => this.#waiters.push({ resolve, reject })).then(
      () => undefined,
    );
  }

  #openGraceTimer(deadline: number): void {
    this.#graceDeadline = deadline;
    this.#cancelGraceTimer = this.#clock.setTimer(
      () => void this.#clear('identity-token-timeout', false).catch(() => undefined),
      Math.max(0, deadline - this.#clock.now()),
    );
  }

  /** Closes the grace window (its timer, its deadline) and hands over the requests waiting in it. */
  #closeGrace(): Waiter[] {
    this.#cancelGraceTimer?.();
    this.#cancelGraceTimer = undefined;
    this.#graceDeadline = undefined;
    const waiters = this.#waiters;
    this.#waiters = [];
    return waiters;
  }

  /** A usable token arrived in the grace window: renew, then release every waiting request. */
  #endGrace(): void {
    const waiters = this.#closeGrace();
    if (this.#session) {
      delete this.#session.graceDeadline;
      this.#inBackground(this.#options.store.saveSession(this.#session));
    }
    const renewal = this.#exchangeOrWait();
    renewal.then(
      (session) => waiters.forEach((waiter) => waiter.resolve(session.accessToken)),
      (error: unknown) => waiters.forEach((waiter) => waiter.reject(error)),
    );
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

  #clear(reason: ClearReason, shouldEndSession: boolean): Promise<number> {
    // A clear already under way does the same work; share it.
    if (this.#clearing) return this.#clearing;
    const clearing = this.#runClear(reason, shouldEndSession);
    this.#clearing = clearing;
    const release = () => {
      if (this.#clearing === clearing) this.#clearing = undefined;
    };
    clearing.then(release, release);
    return clearing;
  }

  async #runClear(reason: ClearReason, shouldEndSession: boolean): Promise<number> {
    const { store, authorization, conversations } = this.#options;
    // Every in-memory change happens before the first await, so no call sees half a clear.
    const previous = this.#session;
    const sessionVersion = ++this.#sessionVersion;
    this.#clearedVersion = sessionVersion;
    this.#lastClearReason = reason;
    // The outbox first: nothing of a cleared session is sent from here on (logout wins, R12).
    this.#outbox.reset();
    this.#session = undefined;
    this.#identity = undefined;
    // An exchange in flight belongs to the cleared session; it fails its own stale check.
    this.#exchange = undefined;
    const waiters = this.#closeGrace();
    for (const tab of this.#tabs.values()) {
      delete tab.verifiedAs;
      delete tab.followsEntries;
    }
    this.#liveStream?.stop();
    this.#liveStream = undefined;
    this.#uncached = [];
    const cleared = new TabwardenError('ERR_SESSION_CLEARED', `The session was cleared (${reason})`);
    for (const waiter of waiters) waiter.reject(cleared);

    // Tabs hear of the clear while the wipe is made durable; both must finish before it resolves.
    const told = this.#broadcast({ type: 'session-cleared', sessionVersion, reason }, () => true);
    if (previous) {
      const { accessToken, conversationId } = previous;
      const endThenRevoke = async () => {
        // Best effort, once the tabs confirmed, in a task of its own: starting a request holds
        // the worker's thread for a moment that the confirmations and the caller's answer need.
        await told;
        // A task boundary, not a time (deadlines go through the injected clock).
        await new Promise<void>((resolve) => setTimeout(resolve, 0));
        if (shouldEndSession) await conversations.end(accessToken, conversationId).catch(() => undefined);
        await authorization.revoke(accessToken);
      };
      this.#inBackground(endThenRevoke());
    }
    await store.clearSession(sessionVersion, reason);
    await told;
    return sessionVersion;
  }

  // ---- plumbing ----

  /**
   * Sends `event` to the tabs `to` selects, and resolves once each confirmed or timed out.
   * A tab that fails to confirm delays nobody past the ack timeout.
   */
  #broadcast(event: WorkerEvent, to: (tabId: string, tab: TabRecord) => boolean): Promise<void> {
    const deliveries = [...this.#tabs]
      .filter(([tabId, tab]) => tab.listener && to(tabId, tab))
      .map(([, tab]) =>
        within(
          Promise.resolve().then(() => tab.listener?.(event)),
          this.#ackTimeoutMs,
          this.#clock,
        ),
      );
    return Promise.all(deliveries).then(() => undefined);
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

  #tab(tabId: string): TabRecord {
    const tab = this.#tabs.get(tabId);
    if (!tab) throw new TabwardenError('ERR_INVALID_ARGUMENT', `Unknown tab ${tabId}`);
    return tab;
  }

  #requireVerified(tabId: string): TabRecord {
    const tab = this.#tab(tabId);
    const current = this.#currentSubject();
    if (!tab.verifiedAs || (current && !sameSubject(current, tab.verifiedAs))) {
      throw new TabwardenError('ERR_NOT_VERIFIED', 'This tab has not presented a valid identity token');
    }
    return tab;
  }

  #requireSession(): SessionRecord {
    if (!this.#session) throw new TabwardenError('ERR_NO_SESSION', 'No session: start a conversation first');
    return this.#session;
  }
}
