import type { ConversationEntry } from '../core/protocol.ts';

/**
 * What happens in a conversation, as live listeners hear it: a committed entry; `behind` when a
 * listener may have missed entries up to `seq` (or any, without one: the feed reconnected) and
 * must read them from the store; the conversation's end.
 */
export type ConversationEvent =
  { type: 'entry'; entry: ConversationEntry } | { type: 'behind'; seq?: number } | { type: 'ended' };

/** Hears one conversation's events. */
export type ConversationListener = (event: ConversationEvent) => void;

/**
 * In-process fan-out of conversation events to the SSE streams that watch them. The stores feed
 * it once a change has committed: SQLite right after its transaction, Postgres from its
 * `LISTEN` connection (so every instance hears every instance's changes).
 *
 * @example
 * ```ts
 * const hub = new EntryHub();
 * const unsubscribe = hub.subscribe(conversationId, (event) => console.log(event));
 * hub.publish(conversationId, { type: 'entry', entry });
 * unsubscribe();
 * ```
 */
export class EntryHub {
  readonly #listeners = new Map<string, Set<ConversationListener>>();

  subscribe(conversationId: string, listener: ConversationListener): () => void {
    let set = this.#listeners.get(conversationId);
    if (!set) this.#listeners.set(conversationId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.#listeners.get(conversationId) === set)
        this.#listeners.delete(conversationId);
    };
  }

  publish(conversationId: string, event: ConversationEvent): void {
    // A copy, so a listener that unsubscribes (the stream ends) does not disturb the loop.
    for (const listener of [...(this.#listeners.get(conversationId) ?? [])]) listener(event);
  }

  /** Tells every listener of every conversation (the feed may have missed events). */
  publishToAll(event: ConversationEvent): void {
    for (const conversationId of [...this.#listeners.keys()]) this.publish(conversationId, event);
  }
}
