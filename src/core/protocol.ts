/**
 * The page <-> worker protocol: every message that crosses between a tab and the shared worker,
 * as types. Versioned so a page and a worker of different releases notice each other (R13).
 * Runtime checks of what arrives live in `validate-message.ts`.
 */
import type { SerializedError } from './errors.ts';

/** Bumped on any incompatible change to the messages below. */
export const PROTOCOL_VERSION = 1;

/** The subject a session belongs to: the identity token's `iss` and `sub`. */
export interface Subject {
  iss: string;
  sub: string;
}

/** True when `a` and `b` name the same user (issuer and subject). */
export function sameSubject(a: Subject, b: Subject): boolean {
  return a.iss === b.iss && a.sub === b.sub;
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
  /** The worker (re)started: a tab holding an identity token in memory re-presents it (R10). */
  | { type: 'identity-token-requested'; sessionVersion: number }
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
  /** Posts a message; idempotent by `clientMessageId` (R12). */
  sendMessage(text: string, clientMessageId: string): Promise<RpcResult<ConversationEntry>>;
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
 * A tab hands the worker a port (in the message's transfer list) on which the worker serves
 * {@link TabApi} for that tab with comlink. Over a service worker a tab sends one per call,
 * through `navigator.serviceWorker.controller.postMessage`, which wakes a stopped worker (R10);
 * over a SharedWorker one for the tab's life.
 */
export interface ConnectMessage {
  type: 'tabwarden:connect';
  protocol: number;
  tabId: string;
  /**
   * Over a service worker: the second transferred port is this tab's event port, for the
   * worker to keep while it lives. A port reaches the tab directly; a post to the window client
   * goes through the browser process and takes about twice as long.
   */
  listen?: true;
  /**
   * The tab's in-memory identity token and the last session version it knew. A service worker
   * that restarted and forgot the tab re-presents it (as `restoreIdentityToken`) before serving
   * the call, which saves the refused call and its retry (R10). Ignored for a verified tab.
   */
  restore?: RestoreCredential;
  /**
   * Over a service worker: the call's id, so that a {@link ProbeMessage} can ask whether the
   * worker still works on it. A re-sent call keeps its id.
   */
  callId?: string;
}

/**
 * Over a service worker: a tab asks which of its calls the worker knows (still running, or
 * answered a moment ago). Sent through `controller.postMessage`, so it wakes a stopped worker;
 * a call the worker answering it does not know died with the worker that had it, and is re-sent
 * at once (R10). The answer, a {@link ProbeReply}, comes on the port in the transfer list.
 */
export interface ProbeMessage {
  type: 'tabwarden:probe';
  protocol: number;
  callIds: string[];
}

/**
 * The Web Lock a service-worker instance holds for its life. A tab with calls in flight on that
 * instance waits for the lock: it is granted when the browser stops the instance, and the tab
 * probes at once (R10).
 */
export function instanceLockName(instanceId: string): string {
  return `tabwarden:service-worker:${instanceId}`;
}

/** A service worker's answer to a {@link ProbeMessage}. */
export interface ProbeReply {
  type: 'tabwarden:probe-reply';
  /** Made when the worker started: another id than before means it restarted meanwhile. */
  instanceId: string;
  /** The asked calls it knows; the others it never saw. */
  known: string[];
}

/** What a tab re-presents to a restarted worker (R10). Travels in memory only, never stored. */
export interface RestoreCredential {
  identityToken: string;
  sessionVersion: number;
}

/**
 * A worker event on its way to one tab where no comlink listener can carry it (the service
 * worker posts it on the tab's event port, or to the window client when it has none). The tab
 * confirms by posting anything on the port in the transfer list, or an {@link EventAck} on its
 * event port (R7 waits for that).
 */
export interface EventMessage {
  type: 'tabwarden:event';
  protocol: number;
  tabId: string;
  event: WorkerEvent;
  /** Set on a tab's event port: the tab confirms with an {@link EventAck} on that port instead. */
  ackId?: number;
}

/** The longest a host waits for a tab to confirm an event (the engine stops waiting sooner). */
export const ACK_BOUND_MS = 5_000;

/** A tab's confirmation of the event numbered `ackId`, on its event port. */
export interface EventAck {
  type: 'tabwarden:ack';
  ackId: number;
}

/**
 * The in-page transport (R11's last resort: no service worker, no SharedWorker). One tab, elected
 * leader, hosts the engine; the others reach it over a BroadcastChannel, which carries no ports,
 * so every message names its tab and call.
 */
export type LeaderMessage =
  /** A follower calls a {@link TabApi} method on the leader. */
  | {
      type: 'tabwarden:call';
      protocol: number;
      tabId: string;
      callId: string;
      method: string;
      args: unknown[];
    }
  /** The leader answers one call. */
  | { type: 'tabwarden:reply'; protocol: number; tabId: string; callId: string; result: unknown }
  /** The leader sends one tab an event; the tab confirms with an ack of the same id. */
  | { type: 'tabwarden:event'; protocol: number; tabId: string; event: WorkerEvent; ackId: string }
  | { type: 'tabwarden:ack'; protocol: number; ackId: string };
