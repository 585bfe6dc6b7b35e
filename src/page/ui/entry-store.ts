import type { ConversationEntry } from '../../core/protocol.ts';

/**
 * The entries of one conversation, ordered by `seq`, each once however often it arrives (from
 * the worker's push, a poll, and a send's own answer).
 */
export class EntryStore {
  readonly #bySeq = new Map<number, ConversationEntry>();
  #lastSeq = 0;
  /** {@link all}'s answer until the entries change: it is read more than once per change. */
  #sorted: readonly ConversationEntry[] | undefined;

  /** The highest `seq` held: the next `listEntries(afterSeq)` argument. */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** Every entry in `seq` order. */
  all(): readonly ConversationEntry[] {
    return (this.#sorted ??= [...this.#bySeq.values()].sort((a, b) => a.seq - b.seq));
  }

  /** Adds entries; returns the ones that were new, in `seq` order. */
  merge(entries: readonly ConversationEntry[]): ConversationEntry[] {
    const added: ConversationEntry[] = [];
    for (const entry of entries) {
      if (!Number.isInteger(entry.seq) || this.#bySeq.has(entry.seq)) continue;
      this.#bySeq.set(entry.seq, entry);
      this.#lastSeq = Math.max(this.#lastSeq, entry.seq);
      added.push(entry);
    }
    if (added.length > 0) this.#sorted = undefined;
    return added.sort((a, b) => a.seq - b.seq);
  }

  clear(): void {
    this.#sorted = undefined;
    this.#bySeq.clear();
    this.#lastSeq = 0;
  }
}
