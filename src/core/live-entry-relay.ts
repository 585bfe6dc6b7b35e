import type { Clock } from './clock.ts';
import type { ConversationClient } from './conversation-client.ts';
import { TabwardenError } from './errors.ts';
import { followLiveEntries, type LiveEntryStream } from './live-entry-stream.ts';
import type { ConversationEntry, WorkerEvent } from './protocol.ts';
import type { SessionState } from './session-state.ts';
import type { SessionRecord, SessionStore } from './store.ts';
import type { BroadcastAudience } from './tab-broadcaster.ts';

/** What a {@link LiveEntryRelay} asks of the engine that owns it (session-engine.ts). */
export interface LiveEntryRelayHost {
  readonly clock: Clock;
  readonly conversations: ConversationClient;
  readonly store: SessionStore;
  /** The session state as the reducer holds it now. */
  state(): SessionState;
  /** Whether a broadcast to `to` would reach a tab now. */
  reaches(to: BroadcastAudience): boolean;
  broadcast(event: WorkerEvent, to: BroadcastAudience): Promise<void>;
  /**
   * Runs `call` with a valid authorization token, renewed if needed but never after a grace wait
   * (R6), and once more after a 401 (R5). Its outcome tells the outbox whether the server can be
   * reached (R12), unless `signal` aborted it.
   */
  withAccessToken<T>(call: (accessToken: string) => Promise<T>, signal: AbortSignal): Promise<T>;
  /** The server ended a stream opened with `accessToken`: the next request renews it (R5). */
  accessTokenRefused(accessToken: string): void;
  /** Records how far the stream got, once its entries are cached: a restarted worker resumes there. */
  advanced(conversationId: string, seq: number): Promise<void>;
  /** Caches entries for offline reading, unless the session was cleared since `clearedBefore` (R7). */
  cache(entries: ConversationEntry[], clearedBefore: number): Promise<void>;
  /** Work a service worker must stay up for. */
  inBackground(work: Promise<unknown>): void;
}

/**
 * The worker's one live stream of conversation entries, however many tabs follow them (R12):
 * open while a verified tab follows the session's conversation, closed otherwise. Each entry it
 * reads is sent to every following tab of the session's subject, then cached, and the stream's
 * position recorded.
 *
 * @example
 * ```ts
 * const relay = new LiveEntryRelay(host);
 * relay.update(); // after any change of the session or of who follows
 * const missed = await relay.entriesAfter(conversationId, afterSeq);
 * ```
 */
export class LiveEntryRelay {
  readonly #host: LiveEntryRelayHost;
  #stream: LiveEntryStream | undefined;
  /** Live entries already sent to the tabs whose cache write is not done yet. */
  #uncached: ConversationEntry[] = [];
  /** The cache and position writes of the entries relayed so far, in the order read. */
  #writes: Promise<void> = Promise.resolve();

  constructor(host: LiveEntryRelayHost) {
    this.#host = host;
  }

  /** Starts the stream when a verified tab follows and a session exists; stops it otherwise. */
  update(): void {
    const { session, clearedVersion } = this.#host.state();
    // Wanted while the stream's entries would reach a tab: the audience they are sent to.
    if (!session || !this.#host.reaches({ kind: 'following', subject: session.subject })) {
      this.#stream?.stop();
      this.#stream = undefined;
      return;
    }
    if (this.#stream) return;
    const { conversationId } = session;
    // The session record is replaced on every renewal; the conversation and the clear count stay.
    const current = () => {
      const now = this.#host.state();
      if (now.session?.conversationId !== conversationId || now.clearedVersion !== clearedVersion) {
        throw new TabwardenError('ERR_SESSION_CLEARED', 'The session changed');
      }
      return now.session;
    };
    /** The authorization token the stream's connection was opened with. */
    let openedWith = '';
    const stream = followLiveEntries({
      afterSeq: session.streamSeq ?? 0,
      clock: this.#host.clock,
      open: (afterSeq, signal) => {
        current();
        // Following is no interaction: with both tokens expired it fails with ERR_TOKEN_EXPIRED
        // instead of opening a grace window (R6).
        return this.#host.withAccessToken((accessToken) => {
          openedWith = accessToken;
          return this.#host.conversations.openEvents(accessToken, current().conversationId, afterSeq, signal);
        }, signal);
      },
      // The server ended the stream: its token expired or was revoked. The next open renews.
      onUnauthorized: () => this.#host.accessTokenRefused(openedWith),
      onEntries: (entries) => this.#relay(current, entries, clearedVersion),
      onStop: () => {
        if (this.#stream === stream) this.#stream = undefined;
      },
    });
    this.#stream = stream;
  }

  /** Stops the stream and forgets what it read (the session is gone). */
  stop(): void {
    this.#stream?.stop();
    this.#stream = undefined;
    this.#uncached = [];
  }

  /**
   * The cached entries of `conversationId` after `afterSeq`, with the ones sent to the tabs whose
   * write is not done yet. Called after the tab was registered as following: an entry sent after
   * that reaches it live, one sent before it is in this answer. Each once, in `seq` order.
   */
  async entriesAfter(conversationId: string, afterSeq: number): Promise<ConversationEntry[]> {
    // Looked at before the cache is read: by the time an entry's write is done (and it leaves
    // #uncached) a read that starts later sees it.
    const uncached = this.#uncached.filter(
      (entry) => entry.conversationId === conversationId && entry.seq > afterSeq,
    );
    const cached = await this.#host.store.listEntries(conversationId, afterSeq);
    const bySeq = new Map([...cached, ...uncached].map((entry) => [entry.seq, entry]));
    return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  }

  /**
   * Sends entries the stream read to every following verified tab, then caches them and records
   * how far the stream got, behind the writes of the entries before them. The stream reads on
   * meanwhile: an entry that arrives while the last one's writes wait for IndexedDB (busy with
   * the outbox, or with ten tabs drawing) reaches the tabs at once. A worker stopped before the
   * writes were done reads the entries again, and the tabs keep each once by `seq`. Nothing of a
   * session cleared meanwhile is sent or written (R7).
   */
  #relay(current: () => SessionRecord, entries: ConversationEntry[], clearedBefore: number): void {
    const host = this.#host;
    const { subject, conversationId } = current();
    const event: WorkerEvent = {
      type: 'entries',
      sessionVersion: host.state().sessionVersion,
      conversationId,
      entries,
    };
    void host.broadcast(event, { kind: 'following', subject });
    this.#uncached.push(...entries);
    const written = this.#writes.then(async () => {
      try {
        await host.cache(entries, clearedBefore);
      } finally {
        this.#uncached = this.#uncached.filter((entry) => !entries.includes(entry));
      }
      current();
      const seq = Math.max(...entries.map((entry) => entry.seq));
      // Checked just above, in the same task: a clear's wipe is queued after this write.
      await host.advanced(conversationId, seq);
    });
    // In order: a position is recorded only once every entry before it is cached.
    this.#writes = written.catch(() => undefined);
    // Background work too: a service worker stays up until the position is stored (whenIdle).
    host.inBackground(written);
  }
}
