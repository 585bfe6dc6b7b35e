/**
 * The page <-> worker protocol: every message that crosses between a tab and the shared worker,
 * as types, and the version they make up. Versioned so a page and a worker of different releases
 * notice each other (R13). Wire types only: runtime checks of what arrives live in
 * `validate-message.ts`, the logic that works on these types in files named for it
 * (`subject.ts`, `host-instance-lock.ts`).
 */
import type { SerializedError } from './errors.ts';

/** Bumped on any incompatible change to the messages below. */
export const PROTOCOL_VERSION = 1;

/** The subject a session belongs to: the identity token's `iss` and `sub`. */
export interface Subject {
  iss: string;
  sub: string;
}

/** Why a session was cleared. */
export type ClearReason =
  /** `clearSession()` was called in some tab. */
  | 'logout'
  /** No valid identity token arrived within the grace window (R6). */
  | 'identity-token-timeout'
  /** A valid token for another subject arrived (R8). */
  | 'user-switch'
  /** The server refused the session for good. */
  | 'authorization-revoked'
  /**
   * The site's storage was deleted under the worker (the user cleared site data, or the app
   * sent `Clear-Site-Data`): the session goes with it rather than being written back.
   */
  | 'storage-cleared';

/** What the worker tells tabs. Each carries the session version so a tab drops stale news. */
export type WorkerEvent =
  /** Both tokens expired and a request waits: send a new identity token before `deadline` (R6). */
  | { type: 'identity-token-expired'; sessionVersion: number; deadline: number }
  /** A newer identity token for the session's subject arrived in some tab; keep it in memory (R9). */
  | {
      type: 'identity-token-refreshed';
      sessionVersion: number;
      identityToken: string;
      claims: { sub: string; iss: string; exp: number };
    }
  /** The session was started (or resumed) with an authorization token (R4). */
  | { type: 'session-started'; sessionVersion: number; conversationId: string; subject: Subject }
  /** Everything was wiped; drop the identity token and UI, then announce ready again (R7). */
  | { type: 'session-cleared'; sessionVersion: number; reason: ClearReason }
  /** The outbox changed: every message still waiting or refused, in delivery order (R12). */
  | { type: 'outbox-changed'; sessionVersion: number; messages: OutboxMessage[] }
  /** A message from the outbox reached the server: show `entry` in place of the pending one (R12). */
  | { type: 'message-delivered'; sessionVersion: number; entry: ConversationEntry }
  /** Whether the worker's requests reach the server, judged by their outcomes (R12). */
  | { type: 'connectivity'; sessionVersion: number; online: boolean }
  /**
   * New entries the worker's live stream read and cached, in `seq` order; sent only to the
   * verified tabs that follow the conversation (`followEntries`, R12).
   */
  | { type: 'entries'; sessionVersion: number; conversationId: string; entries: ConversationEntry[] };

/** The type of every {@link WorkerEvent}. */
export type WorkerEventType = WorkerEvent['type'];

/** A call's outcome as plain data, so error codes survive structured cloning. */
export type RpcResult<T> = { ok: true; value: T } | { ok: false; error: SerializedError };

/** The verified claims a tab gets back from `setIdentityToken`. */
export interface IdentityClaims {
  sub: string;
  iss: string;
  exp: number;
}

/** A started (or resumed) session, as a tab sees it. */
export interface ConversationInfo {
  conversationId: string;
  subject: Subject;
  sessionVersion: number;
}

/** One entry of a conversation. */
export interface ConversationEntry {
  conversationId: string;
  /** Position in the conversation, assigned by the server, starting at 1. */
  seq: number;
  role: 'user' | 'agent' | 'system';
  text: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
  /** The sender's idempotency key, for the user's own messages. */
  clientMessageId?: string;
}

/**
 * A message of the outbox (R12): written, not yet stored by the server. `pending` ones are
 * delivered in order, exactly once, when the network returns; a `failed` one was refused for
 * good (a 4xx, its code in `error`) and waits for a retry or a discard.
 */
export interface OutboxMessage {
  status: 'pending' | 'failed';
  clientMessageId: string;
  conversationId: string;
  role: 'user';
  text: string;
  /** Milliseconds since the epoch, when it was written. */
  createdAt: number;
  /** Why the server refused it, on a `failed` message. */
  error?: SerializedError;
}

/** What `sendMessage` answers: the stored entry, or the message waiting in the outbox (R12). */
export type SentMessage = ConversationEntry | OutboxMessage;

/** A tab's view of the shared state. */
export interface TabState {
  sessionVersion: number;
  verified: boolean;
  /** The subject this tab verified as; absent while unverified. */
  subject?: Subject;
  conversationId?: string;
  /** Set while a grace window is open (R6). */
  graceDeadline?: number;
  /** Why the last clear happened, for a tab that learns of it late (R7, R10). */
  lastClearReason?: ClearReason;
}

/** Receives worker events in a tab. Resolving acknowledges (R7 waits for every live tab). */
export type TabListener = (event: WorkerEvent) => void | Promise<void>;

/**
 * What one tab may call on the worker. The worker builds one per connected tab, so the tab's
 * identity is the connection, never an argument a page could forge.
 */
export interface TabApi {
  /** Handshake: the protocol version the worker speaks. */
  hello(): Promise<{ protocol: number; state: TabState }>;
  /** Verifies the token and marks this tab verified (R2, R3, R8, R9). */
  setIdentityToken(token: string): Promise<RpcResult<IdentityClaims>>;
  /**
   * After a worker restart: re-presents the tab's in-memory token, which may have expired, with
   * the last session version the tab knew, so a tab that missed a clear cannot rejoin (R7, R10).
   */
  restoreIdentityToken(token: string, knownSessionVersion: number): Promise<RpcResult<IdentityClaims>>;
  /** Starts or resumes the session: one exchange however many tabs ask (R4). */
  startConversation(): Promise<RpcResult<ConversationInfo>>;
  /**
   * Posts a message; idempotent by `clientMessageId`. Offline, or while the server fails, it
   * answers at once with the message waiting in the outbox (R12).
   */
  sendMessage(text: string, clientMessageId: string): Promise<RpcResult<SentMessage>>;
  /** The outbox: messages pending or refused, in delivery order (R12). */
  listOutbox(): Promise<RpcResult<OutboxMessage[]>>;
  /** Puts a refused message back in line, or tries the pending ones now (R12). */
  retryMessage(clientMessageId: string): Promise<RpcResult<void>>;
  /** Drops a message from the outbox: it is never sent (R12). */
  discardMessage(clientMessageId: string): Promise<RpcResult<void>>;
  /** The tab's browser says the network is back: try the outbox now rather than at its next retry (R12). */
  networkOnline(): Promise<void>;
  /** Entries after `afterSeq`, from the server, cached for offline reading (R12). */
  listEntries(afterSeq: number): Promise<RpcResult<ConversationEntry[]>>;
  /**
   * Follows the conversation's live entries (`afterSeq`: the last one the tab holds) or stops
   * (`false`). The worker holds one server stream however many tabs follow, and sends what it
   * reads as `entries` events; the answer is the cached entries after `afterSeq` (R12). The
   * authorization token never leaves the worker (R14).
   */
  followEntries(afterSeq: number | false): Promise<RpcResult<ConversationEntry[]>>;
  /** Clears the session everywhere (R7). */
  clearSession(shouldEndSession: boolean): Promise<RpcResult<{ sessionVersion: number }>>;
  /** Current state as this tab sees it. */
  getState(): Promise<TabState>;
  /** Registers the tab's listener; replaces an earlier one. */
  subscribe(listener: TabListener): Promise<void>;
  /** The tab is going away (pagehide). */
  disconnect(): Promise<void>;
}

/**
 * The tab channel (src/page/tab-channel.ts and src/sw/tab-channel-host.ts): the one way a tab and
 * the host of the engine talk, whatever carries the messages (a service worker's
 * `controller.postMessage` and a port, a SharedWorker's port, the in-page leader's
 * BroadcastChannel). A call and an event each carry an id, unique per tab: a call is answered
 * by a reply of its id, an event confirmed by an ack of its id (R7 waits for that).
 *
 * A tab opens (and after a host's death, re-opens) with a `connect` carrying its in-memory
 * identity token and the last session version it knew; the host answers with a `welcome`
 * naming its instance and the tab's state, after re-presenting the token if it does not know
 * the tab (R10). A re-sent call keeps its id.
 */
export type TabMessage =
  | { type: 'tabwarden:connect'; protocol: number; tabId: string; restore?: RestoreCredential }
  | { type: 'tabwarden:call'; protocol: number; tabId: string; id: string; method: string; args: unknown[] }
  | { type: 'tabwarden:ack'; protocol: number; tabId: string; id: string };

/**
 * What a tab posts to its active service worker when that worker does not control it: the worker
 * claims it. Not a tab-channel message: the tab has no channel until a worker controls it (R11).
 */
export const CLAIM_REQUEST = 'tabwarden:claim';

/** What the host of the engine tells a tab over the tab channel ({@link TabMessage}). */
export type HostMessage =
  /**
   * The answer to a connect: the host's instance (made when it started) and the tab's state
   * there. `restored` is the outcome of re-presenting the tab's token, when the host did.
   */
  | {
      type: 'tabwarden:welcome';
      protocol: number;
      tabId: string;
      instanceId: string;
      state: TabState;
      restored?: RpcResult<IdentityClaims>;
    }
  /**
   * A host that (re)started, to every tab (`tabId: '*'`), or to one tab it does not know: connect
   * to me. A tab connected elsewhere re-connects and re-sends its unanswered calls (R10).
   */
  | { type: 'tabwarden:started'; protocol: number; tabId: string; instanceId: string }
  | { type: 'tabwarden:reply'; protocol: number; tabId: string; id: string; result: unknown }
  | { type: 'tabwarden:event'; protocol: number; tabId: string; id: string; event: WorkerEvent };

/** What a tab re-presents to a restarted host (R10). Travels in memory only, never stored. */
export interface RestoreCredential {
  identityToken: string;
  sessionVersion: number;
}
