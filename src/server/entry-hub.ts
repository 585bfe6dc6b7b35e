import type { ConversationEntry } from '../core/protocol.ts';

/** What happens in a conversation, as live listeners hear it. */
export type ConversationEvent = { type: 'entry'; entry: ConversationEntry } | { type: 'ended' };

type Listener = (event: ConversationEvent) => void;

/**
 * In-process fan-out of new conversation entries to the SSE streams that watch them. Publishing
 * is synchronous and happens right after the entry's transaction commits, so a stream that reads
 * its backlog and subscribes in the same tick can neither miss nor double an entry.
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
  readonly #listeners = new Map<string, Set<Listener>>();

  subscribe(conversationId: string, listener: Listener): () => void {
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
}
