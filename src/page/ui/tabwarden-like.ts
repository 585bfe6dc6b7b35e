import type { ConversationEntry, OutboxMessage, SentMessage } from '../../core/protocol.ts';
import type { TabwardenEventMap } from '../tabwarden-events.ts';
import type { TypedEventTarget } from '../typed-event-target.ts';

/**
 * What the UI elements need from a tabwarden page client. The `Tabwarden` class that
 * `createTabwarden()` returns satisfies it; so does `window.embeddedservice_bootstrap.tabwarden`.
 * Kept structural so the UI bundle depends on the page stub's shape, not its code.
 *
 * @example
 * ```ts
 * import type { TabwardenLike } from 'tabwarden/ui';
 *
 * function isVerified(tw: TabwardenLike): boolean {
 *   return tw.state.verified;
 * }
 * ```
 */
export interface TabwardenLike extends TypedEventTarget<TabwardenEventMap> {
  /** The tab's last known view of the session (synchronous). */
  readonly state: {
    readonly verified: boolean;
    readonly conversationId?: string;
    /** Set while a grace window is open (R6): milliseconds since the epoch. */
    readonly graceDeadline?: number;
  };
  /** Starts or resumes the session (R4). */
  startConversation(): Promise<{ conversationId: string }>;
  /** False once the worker's requests stopped reaching the server (R12); undefined if unknown. */
  readonly online?: boolean;
  /**
   * Sends a message: resolves the stored entry, or the message waiting in the outbox
   * (`status: 'pending'`); rejects with an error carrying a `code` when it is refused.
   */
  sendMessage(text: string): Promise<SentMessage>;
  /** The outbox: messages pending or refused (`status: 'failed'`), in delivery order (R12). */
  listOutbox(): Promise<OutboxMessage[]>;
  /** Puts a refused message back in line (R12). */
  retryMessage(clientMessageId: string): Promise<void>;
  /** Drops a message from the outbox: it is never sent (R12). */
  discardMessage(clientMessageId: string): Promise<void>;
  /** Entries with `seq > afterSeq`. */
  listEntries(afterSeq?: number): Promise<ConversationEntry[]>;
  /** Follows the worker's live entries, dispatching `entries`; returns a function that stops it. */
  watchEntries(afterSeq?: number): () => void;
}

/**
 * Adds a listener for one event of the page client's {@link TabwardenEventMap}. The detail may
 * lack fields: the UI also listens to clients it did not create.
 */
export function listen<K extends keyof TabwardenEventMap>(
  target: EventTarget,
  type: K,
  handler: (detail: Partial<TabwardenEventMap[K]>) => void,
  signal: AbortSignal,
): void {
  target.addEventListener(
    type,
    (event) => handler(((event as CustomEvent<TabwardenEventMap[K]>).detail ?? {}) as never),
    { signal },
  );
}
