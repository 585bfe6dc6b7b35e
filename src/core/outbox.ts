import type { Clock } from './clock.ts';
import { deserializeError, serializeError, TabwardenError } from './errors.ts';
import type { ConversationEntry, OutboxMessage } from './protocol.ts';
import type { OutboxItem, SessionStore } from './store.ts';

/** How the first attempt at a message ended, for the `sendMessage` that wrote it. */
export type SendOutcome =
  | { kind: 'delivered'; entry: ConversationEntry }
  /** In the outbox: the network or the server failed; it goes out when they are back. */
  | { kind: 'pending'; message: OutboxMessage }
  /** Refused for good (a 4xx), or its session was cleared. */
  | { kind: 'refused'; error: TabwardenError };

/** What an {@link Outbox} is built from. Everything with a side effect is injected. */
export interface OutboxOptions {
  store: SessionStore;
  clock: Clock;
  /** Posts one message with the session's authorization (R5, R6); rejects with a coded error. */
  post(item: OutboxItem): Promise<ConversationEntry>;
  /** False for an item of a session that is no more: it is dropped, never sent (R7). */
  belongs(item: OutboxItem): boolean;
  /** The messages waiting or refused changed (not sent for each delivery: see `delivered`). */
  changed(messages: OutboxMessage[]): void;
  /** A message that had waited reached the server. */
  delivered(entry: ConversationEntry): void;
  /** Whether requests reach the server, judged by their outcomes. */
  connectivity(online: boolean): void;
  /** Asks the browser to deliver later, even with no tab open (Background Sync). */
  requestBackgroundDelivery?(): void;
  /** The first retry after a network failure; each next one waits twice as long. Default 1 s. */
  retryMs?: number;
  /** The longest wait between retries. Default 30 s. */
  maxRetryMs?: number;
}

/** Why a pass over the outbox stopped. */
type PassEnd = 'empty' | 'offline' | 'waiting';

/** The request never reached the server (or no answer came back): the network is down. */
function isUnreachable(error: unknown): boolean {
  return error instanceof TabwardenError && (error.code === 'ERR_NETWORK' || error.code === 'ERR_TIMEOUT');
}

/** The network or the server failed: the message may go through later (and may have arrived). */
function isTransient(error: unknown): boolean {
  if (isUnreachable(error)) return true;
  if (!(error instanceof TabwardenError)) return false;
  if (error.code === 'ERR_RATE_LIMITED') return true;
  return error.code === 'ERR_SERVER' && (error.status === undefined || error.status >= 500);
}

/** Delivery cannot go on now, though nothing is wrong with the message (no session, no token). */
function isWait(error: unknown): boolean {
  return (
    error instanceof TabwardenError &&
    (error.code === 'ERR_NO_SESSION' ||
      error.code === 'ERR_TOKEN_EXPIRED' ||
      error.code === 'ERR_SESSION_CLEARED')
  );
}

/** A stored item as tabs see it. */
export function toOutboxMessage(item: OutboxItem): OutboxMessage {
  const message: OutboxMessage = {
    status: item.status,
    clientMessageId: item.clientMessageId,
    conversationId: item.conversationId,
    role: 'user',
    text: item.text,
    createdAt: item.createdAt,
  };
  if (item.error) message.error = item.error;
  return message;
}

/**
 * The outbox (R12): every message is written to IndexedDB before it goes out, and delivered from
 * there one at a time, in the order written, by a single delivery loop. A network failure or a
 * 5xx leaves it pending (retried with backoff on the injected clock, at once when a tab says the
 * network is back, when a request succeeds again, or by Background Sync); a 4xx marks it failed.
 * The server stores a client message id once, so a message posted twice (a worker stopped
 * mid-request) is still stored once. {@link reset} (a clear) stops everything at once.
 *
 * @example
 * ```ts
 * const outbox = new Outbox({ store, clock, post, belongs, changed, delivered, connectivity });
 * const outcome = await outbox.add(item); // delivered, pending or refused
 * await outbox.deliver(); // after a restart: what the last worker left
 * ```
 */
export class Outbox {
  readonly #options: OutboxOptions;
  /** The `sendMessage` calls waiting for their message's first attempt, by client message id. */
  readonly #waiting = new Map<string, Array<(outcome: SendOutcome) => void>>();
  #running: Promise<boolean> | undefined;
  #again = false;
  /** Bumped by a clear: a pass of an older generation stops and writes nothing more. */
  #generation = 0;
  #online: boolean | undefined;
  #retryMs = 0;
  #cancelRetry: (() => void) | undefined;
  /** Tabs were shown a non-empty outbox since it was last empty. */
  #shown = false;
  /** The message on the wire: a clear leaves its sender to learn the truth of it. */
  #onTheWire: string | undefined;
  /** Discarded since the last clear: a pass that listed one before its removal skips it. */
  readonly #discarded = new Set<string>();

  constructor(options: OutboxOptions) {
    this.#options = options;
  }

  /** False after a request failed for the network, true after one reached the server; unknown at first. */
  get online(): boolean | undefined {
    return this.#online;
  }

  /**
   * Writes `item` at the end of the outbox and resolves once its first attempt decided: delivered,
   * pending (an attempt made after it was written, at it or at a message before it, failed for
   * the network or the server), or refused.
   */
  async add(item: OutboxItem): Promise<SendOutcome> {
    const generation = this.#generation;
    this.#discarded.delete(item.clientMessageId);
    const stored = await this.#options.store.addToOutbox(item);
    if (generation !== this.#generation) {
      // Cleared while it was being written: it belongs to the cleared session (R7).
      await this.#options.store.removeFromOutbox(item.clientMessageId);
      return { kind: 'refused', error: cleared() };
    }
    // The same id refused before: answered with its refusal; `retry` puts it back in line.
    if (stored.status === 'failed') {
      return { kind: 'refused', error: deserializeError(stored.error ?? serializeError(undefined)) };
    }
    const outcome = new Promise<SendOutcome>((resolve) => {
      const waiting = this.#waiting.get(item.clientMessageId) ?? [];
      waiting.push(resolve);
      this.#waiting.set(item.clientMessageId, waiting);
    });
    // Each send is also a try: the network may be back before the next retry.
    void this.deliver();
    return outcome;
  }

  /**
   * Delivers every pending message, in order. Resolves true once none is left pending, false when
   * delivery stopped (offline, no usable authorization) — a service worker's `sync` event then
   * fails, so that the browser tries again later.
   */
  deliver(): Promise<boolean> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    const running = this.#run().finally(() => (this.#running = undefined));
    this.#running = running;
    return running;
  }

  /** A request of the worker reached the server: if the outbox was waiting for that, deliver now. */
  serverReached(): void {
    const wasOffline = this.#online === false;
    this.#setOnline(true);
    if (wasOffline) void this.deliver();
  }

  /** A request of the worker failed: offline if it never reached the server. */
  requestFailed(error: unknown): void {
    if (isUnreachable(error)) this.#setOnline(false);
  }

  /** A tab's browser says the network is back: not proof, so it only prompts an attempt. */
  networkMayBeBack(): void {
    if (this.#online === false) this.#online = undefined;
    void this.deliver();
  }

  /** Puts a failed message back in line (or prompts delivery of a pending one). */
  async retry(clientMessageId: string): Promise<void> {
    const item = (await this.#options.store.listOutbox()).find((i) => i.clientMessageId === clientMessageId);
    if (!item || !this.#options.belongs(item)) {
      throw new TabwardenError('ERR_NOT_FOUND', 'No such message in the outbox');
    }
    if (item.status === 'failed') {
      const { error: _refusal, ...rest } = item;
      await this.#options.store.updateOutbox({ ...rest, status: 'pending' });
      await this.#announce();
    }
    if (this.#online === false) this.#online = undefined;
    void this.deliver();
  }

  /** Drops a message: it is never sent. One already on the wire cannot be taken back. */
  async discard(clientMessageId: string): Promise<void> {
    if (clientMessageId === this.#onTheWire) {
      throw new TabwardenError(
        'ERR_MESSAGE_IN_FLIGHT',
        'The message is being delivered now: it can no longer be discarded',
      );
    }
    this.#discarded.add(clientMessageId);
    await this.#options.store.removeFromOutbox(clientMessageId);
    this.#settle(clientMessageId, {
      kind: 'refused',
      error: new TabwardenError('ERR_NOT_FOUND', 'The message was discarded'),
    });
    await this.#announce();
  }

  /** The outbox as tabs see it: messages of the current session, in order. */
  async list(): Promise<OutboxMessage[]> {
    return (await this.#options.store.listOutbox()).filter(this.#options.belongs).map(toOutboxMessage);
  }

  /**
   * A clear began (R7): stop at once — no retry, no further post, every waiting send refused. The
   * store's wipe (in the same transaction as the session's) empties the outbox itself.
   */
  reset(): void {
    this.#generation++;
    this.#cancelRetry?.();
    this.#cancelRetry = undefined;
    this.#retryMs = 0;
    this.#shown = false;
    this.#discarded.clear();
    for (const id of [...this.#waiting.keys()]) {
      if (id !== this.#onTheWire) this.#settle(id, { kind: 'refused', error: cleared() });
    }
  }

  async #run(): Promise<boolean> {
    let end: PassEnd;
    do {
      this.#again = false;
      end = await this.#pass();
    } while (this.#again && end !== 'waiting');
    return end === 'empty';
  }

  /** Delivers from the head of the outbox until it is empty or delivery must wait. */
  async #pass(): Promise<PassEnd> {
    const { store, belongs, post } = this.#options;
    const generation = this.#generation;
    // The pending messages as last read, walked in order and read again once walked (a send may
    // have added one meanwhile): a read per message (an IndexedDB getAll of the whole outbox)
    // cost about 2 ms each, a sixth of a delivery, measured with 100 queued.
    let unsent: OutboxItem[] = [];
    // The messages this pass found: each of its attempts began after they were written.
    const found = new Set<string>();
    for (;;) {
      if (generation !== this.#generation) return 'waiting';
      const read = unsent.length === 0;
      if (read) {
        const items = await store.listOutbox();
        if (generation !== this.#generation) return 'waiting';
        for (const stale of items.filter((item) => !belongs(item))) {
          await store.removeFromOutbox(stale.clientMessageId);
        }
        unsent = items.filter((item) => item.status === 'pending');
        for (const item of unsent) found.add(item.clientMessageId);
      }
      let head: OutboxItem | undefined;
      while (!head && unsent.length > 0) {
        const next = unsent.shift()!;
        if (belongs(next) && !this.#discarded.has(next.clientMessageId)) head = next;
      }
      if (!head && !read) continue; // what was read is walked: read again before calling it empty
      if (!head) {
        if (this.#shown) await this.#announce();
        return 'empty';
      }
      let entry: ConversationEntry;
      try {
        this.#onTheWire = head.clientMessageId;
        entry = await post(head);
      } catch (error) {
        if (generation !== this.#generation) {
          this.#settle(head.clientMessageId, { kind: 'refused', error: cleared() });
          return 'waiting';
        }
        if (isTransient(error)) {
          // A 429 or a 5xx came from the server: it is reachable, just not storing yet.
          this.#setOnline(!isUnreachable(error));
          // A send written while this request was on the wire is not answered by its failure:
          // the server may be back by now. Its `add` asked for another pass, its own attempt.
          await this.#holdAll(found);
          this.#scheduleRetry(error);
          return 'offline';
        }
        if (isWait(error)) {
          const code = (error as TabwardenError).code;
          if (code === 'ERR_SESSION_CLEARED')
            this.#settle(head.clientMessageId, { kind: 'refused', error: cleared() });
          else await this.#holdAll();
          return 'waiting';
        }
        await this.#refuse(head, error);
        continue;
      } finally {
        this.#onTheWire = undefined;
      }
      if (generation !== this.#generation) {
        // Cleared while on the wire: the server has it, so its sender is told so (R7).
        this.#settle(head.clientMessageId, { kind: 'delivered', entry });
        return 'waiting';
      }
      this.#retryMs = 0;
      this.#cancelRetry?.();
      this.#cancelRetry = undefined;
      this.#setOnline(true);
      await store.removeFromOutbox(head.clientMessageId);
      const waiting = this.#waiting.has(head.clientMessageId);
      this.#settle(head.clientMessageId, { kind: 'delivered', entry });
      // The sender has its answer; the others learn it as an event (R12).
      if (!waiting || this.#shown) this.#options.delivered(entry);
    }
  }

  /**
   * Every waiting send (of those `tried`, if given) answers pending; tabs are shown the outbox;
   * the browser may deliver later.
   */
  async #holdAll(tried?: ReadonlySet<string>): Promise<void> {
    const messages = await this.#announce();
    for (const message of messages) {
      if (message.status !== 'pending' || (tried && !tried.has(message.clientMessageId))) continue;
      this.#settle(message.clientMessageId, { kind: 'pending', message });
    }
    this.#options.requestBackgroundDelivery?.();
  }

  async #refuse(item: OutboxItem, error: unknown): Promise<void> {
    const refusal =
      error instanceof TabwardenError ? error : new TabwardenError('ERR_SERVER', 'Unexpected internal error');
    const waiting = this.#waiting.has(item.clientMessageId);
    if (waiting) {
      // Its sender is still there to be told: answered like any refused request, nothing kept.
      await this.#options.store.removeFromOutbox(item.clientMessageId);
      this.#settle(item.clientMessageId, { kind: 'refused', error: refusal });
      return;
    }
    await this.#options.store.updateOutbox({ ...item, status: 'failed', error: serializeError(refusal) });
    await this.#announce();
  }

  /** Tells tabs what is in the outbox now, and resolves it. */
  async #announce(): Promise<OutboxMessage[]> {
    const messages = await this.list();
    this.#shown = messages.length > 0;
    this.#options.changed(messages);
    return messages;
  }

  #scheduleRetry(error: unknown): void {
    const { retryMs = 1_000, maxRetryMs = 30_000, clock } = this.#options;
    // One retry at a time: an attempt a send made meanwhile does not push it further out.
    if (this.#cancelRetry) return;
    const asked = error instanceof TabwardenError ? error.retryAfterMs : undefined;
    this.#retryMs = Math.min(maxRetryMs, this.#retryMs === 0 ? retryMs : this.#retryMs * 2);
    this.#cancelRetry = clock.setTimer(
      () => {
        this.#cancelRetry = undefined;
        void this.deliver();
      },
      Math.max(asked ?? 0, this.#retryMs),
    );
  }

  #setOnline(online: boolean): void {
    if (this.#online === online) return;
    this.#online = online;
    this.#options.connectivity(online);
  }

  #settle(clientMessageId: string, outcome: SendOutcome): void {
    const waiting = this.#waiting.get(clientMessageId);
    this.#waiting.delete(clientMessageId);
    for (const resolve of waiting ?? []) resolve(outcome);
  }
}

function cleared(): TabwardenError {
  return new TabwardenError('ERR_SESSION_CLEARED', 'The session was cleared: the message was not sent');
}
