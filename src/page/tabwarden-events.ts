import type {
  ClearReason,
  ConversationEntry,
  IdentityClaims,
  OutboxMessage,
  Subject,
} from '../core/protocol.ts';

/**
 * The events the page client (`Tabwarden`) dispatches, with their `detail`: the one definition
 * the client, the UI (`TabwardenLike`) and the seed's window facade all read.
 *
 * @example
 * ```ts
 * import type { TabwardenEventMap } from 'tabwarden/page';
 *
 * function onCleared(detail: TabwardenEventMap['session-cleared']): void {
 *   console.log('cleared:', detail.reason); // a ClearReason, never any string
 * }
 * ```
 */
export interface TabwardenEventMap {
  /** The link to the worker is up and the API takes requests; again after every clear (R1, R7). */
  ready: Record<string, never>;
  /** This tab presented a valid identity token (R3). */
  verified: IdentityClaims;
  /** The worker refused a token; nothing changed (R2). */
  'identity-token-rejected': { code: string; message: string };
  /** Both tokens expired while a request waits: give a new token before `deadline` (R6). */
  'identity-token-expired': { deadline: number };
  /** Another tab presented a newer token for the same subject; this tab now holds it (R9). */
  'identity-token-refreshed': { exp: number };
  'session-started': { conversationId: string; subject: Subject };
  /** Everything was wiped in every tab (R7, R8, R6 timeout). */
  'session-cleared': { reason: ClearReason };
  /** New conversation entries the worker's live stream read, while `watchEntries` runs. */
  entries: { entries: ConversationEntry[] };
  /** The outbox changed: every message still pending or refused, in delivery order (R12). */
  outbox: { messages: OutboxMessage[] };
  /** A message that waited in the outbox reached the server: `entry` replaces the pending one (R12). */
  'message-delivered': { entry: ConversationEntry };
  /**
   * Whether the server can be reached, judged by the worker's requests (R12). The browser's own
   * `offline` event counts as offline at once; its `online` event is no proof, so it only makes
   * the worker try again, and this event follows that try's outcome.
   */
  connectivity: { online: boolean };
}
