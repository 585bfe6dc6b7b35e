import { systemClock, type Clock } from '../core/clock.ts';
import { deserializeError, serializeError } from '../core/errors.ts';
import type {
  ClearReason,
  ConversationEntry,
  ConversationInfo,
  IdentityClaims,
  OutboxMessage,
  RestoreCredential,
  RpcResult,
  SentMessage,
  TabApi,
  TabState,
  WorkerEvent,
} from '../core/protocol.ts';
import { CallPolicy, unwrap } from './call-policy.ts';
import { RefreshScheduler } from './refresh-scheduler.ts';
import {
  TabChannel,
  type ChannelTransport,
  type TabMethod,
  type TransportKind,
  type Welcome,
} from './tab-channel.ts';
import type { TabwardenEventMap } from './tabwarden-events.ts';
import { TypedEventTarget } from './typed-event-target.ts';

export type { TabwardenEventMap } from './tabwarden-events.ts';

/** Options of the page client. */
export interface TabwardenClientOptions {
  /**
   * Supplies a fresh identity token. With it the client presents one by itself: when ready,
   * on the expiry event, and shortly before the current token's own `exp` (R3).
   */
  identityTokenProvider?: () => Promise<string>;
  /** How long before `exp` the provider is asked. Default 30 s. */
  refreshAheadMs?: number;
  /** Time limit of one call to the worker. Default 10 s. */
  callTimeoutMs?: number;
  /** The worker's grace window (R6): a call that may wait for a new token gets this much longer. */
  graceMs: number;
}

// Construction and the handshake, one step reached only through openTabwarden: neither is public
// (issue 14).
let openClient: (
  transport: ChannelTransport,
  tabId: string,
  options: TabwardenClientOptions,
  clock?: Clock,
) => Promise<Tabwarden>;

/**
 * One tab's handle on the shared verified session. Created by `createTabwarden`; a typed
 * event target.
 *
 * @example
 * ```ts
 * const tw = await createTabwarden({ worker: { issuer, jwksUrl, serverUrl } });
 * tw.addEventListener('identity-token-expired', async () => tw.setIdentityToken(await login()));
 * await tw.setIdentityToken(identityToken); // resolves { sub, iss, exp } or rejects with .code
 * const { conversationId } = await tw.startConversation();
 * await tw.sendMessage('Hello!');
 * ```
 */
export class Tabwarden extends TypedEventTarget<TabwardenEventMap> {
  readonly #channel: TabChannel;
  readonly #policy: CallPolicy;
  /** Present when the app gave an identityTokenProvider (R3). */
  readonly #refresh: RefreshScheduler | undefined;
  /** The identity token, in this tab's memory only (R3). */
  #identityToken: string | undefined;
  #state: TabState = { sessionVersion: 0, verified: false };
  #ready = false;
  #online = true;
  /** How many {@link watchEntries} calls are running: the tab follows entries while any does. */
  #watchers = 0;
  /** Every entry up to this one was dispatched to the watchers (seqs are 1, 2, 3, ...). */
  #followedSeq = 0;
  /** Entries after {@link #followedSeq} already dispatched, out of order (see {@link #follow}). */
  readonly #dispatchedAhead = new Set<number>();
  /** Live entries that arrive while a follow call is in flight wait here behind its answer. */
  #heldEntries: ConversationEntry[][] | undefined;
  #keepAliveTimer: ReturnType<typeof setInterval> | undefined;

  static {
    openClient = async (transport, tabId, options, clock) => {
      const tabwarden = new Tabwarden(transport, tabId, options, clock);
      await tabwarden.#connect();
      return tabwarden;
    };
  }

  /** Use `createTabwarden`. */
  private constructor(
    transport: ChannelTransport,
    tabId: string,
    options: TabwardenClientOptions,
    clock: Clock = systemClock,
  ) {
    super();
    this.#policy = new CallPolicy(options, clock);
    const provider = options.identityTokenProvider;
    if (provider) {
      this.#refresh = new RefreshScheduler(
        {
          ...options, // refreshAheadMs
          // Bounded: a provider that never answers must not hold the other tabs' turn for ever.
          provider: () => this.#policy.askProvider(provider),
          present: (identityToken) => this.setIdentityToken(identityToken),
          verified: () => this.#state.verified,
        },
        clock,
      );
    }
    this.#channel = new TabChannel(
      transport,
      tabId,
      {
        credential: () => this.#credential(),
        welcomed: (welcome) => this.#rejoin(welcome),
        handleEvent: (event) => this.#handleEvent(event),
      },
      clock,
    );
  }

  /** Which transport carries this tab's calls (R11). */
  get transport(): TransportKind {
    return this.#channel.kind;
  }

  /** This tab's last known view of the session. */
  get state(): Readonly<TabState> {
    return this.#state;
  }

  /** True once the link is up (R1). */
  get ready(): boolean {
    return this.#ready;
  }

  /** Whether the server could be reached, as the last `connectivity` event said (R12). */
  get online(): boolean {
    return this.#online;
  }

  /** Completes the handshake, then announces ready on the next task. */
  async #connect(): Promise<void> {
    const { state } = await this.#call('hello');
    this.#state = state;
    this.#ready = true;
    // A task later, so that code awaiting createTabwarden() has attached its listeners.
    setTimeout(() => this.#announceReady());
    // Back from the back/forward cache: it may have missed anything meanwhile (R7, R10).
    addEventListener('pageshow', (event) => {
      if (event.persisted) this.#channel.reconnect();
    });
    addEventListener('offline', () => this.#setOnline(false));
    // Not proof of a network: the worker tries the outbox, and its outcome decides (R12).
    addEventListener('online', () => void this.#call('networkOnline').catch(() => undefined));
  }

  /**
   * Presents an identity token for this tab (R2, R3). Resolves its verified claims or rejects
   * with a {@link TabwardenError} whose `code` says why; a refused token changes nothing.
   */
  async setIdentityToken(identityToken: string): Promise<IdentityClaims> {
    let result: RpcResult<IdentityClaims>;
    try {
      result = await this.#call('setIdentityToken', identityToken);
    } catch (error) {
      // No verdict came (the worker did not answer): still announced, so a `true` from the
      // seed's facade is always followed by an outcome.
      const { code, message } = serializeError(error);
      result = { ok: false, error: { code, message } };
    }
    if (!result.ok) {
      this.#dispatch('identity-token-rejected', { code: result.error.code, message: result.error.message });
      throw deserializeError(result.error);
    }
    this.#adopt(identityToken, result.value);
    return result.value;
  }

  /** Starts the session or resumes it (R4): one exchange however many tabs ask. */
  async startConversation(): Promise<ConversationInfo> {
    const info = unwrap(await this.#call('startConversation'));
    // A resumed session announces nothing: learn it from the answer.
    if (this.#state.verified && info.sessionVersion >= this.#state.sessionVersion) {
      this.#state = {
        ...this.#state,
        sessionVersion: info.sessionVersion,
        conversationId: info.conversationId,
      };
    }
    return info;
  }

  /**
   * Sends a message, idempotent by a client message id it makes. Resolves the stored entry, or —
   * offline, or while the server fails — the message pending in the outbox (`status: 'pending'`),
   * which every verified tab is shown and which is delivered in order, exactly once, when the
   * network returns (R12). A refusal (a 4xx) rejects with its code.
   *
   * @example
   * ```ts
   * const sent = await tw.sendMessage('Hello!');
   * if ('status' in sent) showPending(sent); // in the outbox; `message-delivered` follows
   * ```
   */
  async sendMessage(text: string): Promise<SentMessage> {
    return unwrap(await this.#call('sendMessage', text, crypto.randomUUID()));
  }

  /** The outbox: messages pending or refused (`status: 'failed'`, with the server's `error`), in delivery order (R12). */
  async listOutbox(): Promise<OutboxMessage[]> {
    return unwrap(await this.#call('listOutbox'));
  }

  /**
   * Puts a refused message back in line (or tries the pending ones now); the outcome arrives as
   * `message-delivered` or `outbox` events (R12).
   *
   * @example
   * ```ts
   * tw.addEventListener('outbox', ({ detail }) => render(detail.messages));
   * await tw.retryMessage(failed.clientMessageId);
   * ```
   */
  async retryMessage(clientMessageId: string): Promise<void> {
    unwrap(await this.#call('retryMessage', clientMessageId));
  }

  /** Drops a message from the outbox: it is never sent (R12). */
  async discardMessage(clientMessageId: string): Promise<void> {
    unwrap(await this.#call('discardMessage', clientMessageId));
  }

  /** Conversation entries after `afterSeq`; offline, the cached ones (R12). */
  async listEntries(afterSeq = 0): Promise<ConversationEntry[]> {
    return unwrap(await this.#call('listEntries', afterSeq));
  }

  /**
   * Follows the conversation live: dispatches `entries` for every entry after `afterSeq` as the
   * worker's one live stream delivers it (agent replies, other tabs' messages). However many tabs
   * watch, the browser holds one stream to the server, on the worker side; a tab that does not
   * watch receives no entries (R12). Following is no interaction (R6): without a session, or
   * when both tokens have expired, it pauses, and resumes when a session starts or a valid token
   * arrives in any tab. It ends when the session is cleared; the returned function ends it
   * sooner. Several watches in one tab share one follow, from the first one's `afterSeq`.
   */
  watchEntries(afterSeq = 0): () => void {
    if (this.#watchers++ === 0) {
      this.#followedSeq = afterSeq;
      this.#dispatchedAhead.clear();
      void this.#follow();
      // Where the host stops when idle (a service worker), the follow itself keeps it alive.
      const keepAliveMs = this.#channel.followKeepAliveMs;
      if (keepAliveMs !== undefined) {
        this.#keepAliveTimer = setInterval(() => void this.#follow(false), keepAliveMs);
      }
    }
    const listeners = new AbortController();
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      listeners.abort();
      if (--this.#watchers > 0) return;
      clearInterval(this.#keepAliveTimer);
      if (this.#state.verified) void this.#call('followEntries', false).catch(() => undefined);
    };
    // Resumes once there is something to follow again: a session, this tab verified.
    for (const type of ['session-started', 'verified'] as const) {
      this.addEventListener(type, () => void this.#follow(), { signal: listeners.signal });
    }
    this.addEventListener('session-cleared', end, { signal: listeners.signal });
    return end;
  }

  /**
   * Tells the worker that this tab follows the entries and dispatches the cached ones it missed.
   * A first follow (or one after a worker restart) holds the live entries that arrive meanwhile
   * until the cached ones went out, so they arrive in order. A keep-alive does not hold them (it
   * would delay every entry); should it be the call that wakes a stopped worker, a cached entry
   * may then follow a later live one — still once, never lost.
   */
  async #follow(hold = true): Promise<void> {
    if (this.#watchers === 0 || !this.#state.verified || this.#heldEntries) return;
    if (hold) this.#heldEntries = [];
    try {
      const result = await this.#call('followEntries', this.#followedSeq);
      if (result.ok) this.#dispatchEntries(result.value);
    } catch {
      // No worker answered: the next restart or token resumes the follow.
    } finally {
      const held = hold ? (this.#heldEntries ?? []) : [];
      if (hold) this.#heldEntries = undefined;
      for (const entries of held) this.#dispatchEntries(entries);
    }
  }

  /** Dispatches the entries not dispatched yet, in `seq` order. */
  #dispatchEntries(entries: readonly ConversationEntry[]): void {
    if (this.#watchers === 0) return;
    const fresh = new Map<number, ConversationEntry>();
    for (const entry of entries) {
      if (entry.seq > this.#followedSeq && !this.#dispatchedAhead.has(entry.seq)) fresh.set(entry.seq, entry);
    }
    if (fresh.size === 0) return;
    for (const seq of fresh.keys()) this.#dispatchedAhead.add(seq);
    while (this.#dispatchedAhead.delete(this.#followedSeq + 1)) this.#followedSeq += 1;
    this.#dispatch('entries', { entries: [...fresh.values()].sort((a, b) => a.seq - b.seq) });
  }

  /**
   * Clears the session in every tab (R7): resolves once the wipe is durable and every live tab
   * confirmed. `shouldEndSession` also ends the conversation on the server.
   */
  async clearSession(shouldEndSession = false): Promise<void> {
    const { sessionVersion } = unwrap(await this.#call('clearSession', shouldEndSession));
    this.#clearLocally(sessionVersion, 'logout');
  }

  /** Disconnects this tab (as on `pagehide`). */
  close(): void {
    this.#refresh?.cancel();
    clearInterval(this.#keepAliveTimer);
    void this.#call('disconnect').catch(() => undefined);
    this.#channel.close();
  }

  // ---- internals ----

  /** Handles one event from the worker. Stale ones (an older session version) are dropped. */
  #handleEvent(event: WorkerEvent): void {
    if (event.sessionVersion < this.#state.sessionVersion) return;
    switch (event.type) {
      case 'session-cleared':
        this.#clearLocally(event.sessionVersion, event.reason);
        break;
      case 'identity-token-expired':
        if (!this.#state.verified) return;
        this.#state = { ...this.#state, graceDeadline: event.deadline };
        this.#dispatch('identity-token-expired', { deadline: event.deadline });
        void this.#refresh?.ask();
        break;
      case 'identity-token-refreshed':
        if (!this.#state.verified) return;
        this.#identityToken = event.identityToken;
        this.#refresh?.schedule(event.claims.exp);
        this.#dispatch('identity-token-refreshed', { exp: event.claims.exp });
        break;
      case 'session-started':
        this.#state = {
          ...this.#state,
          sessionVersion: event.sessionVersion,
          conversationId: event.conversationId,
        };
        this.#dispatch('session-started', { conversationId: event.conversationId, subject: event.subject });
        break;
      case 'entries':
        if (this.#heldEntries) this.#heldEntries.push(event.entries);
        else this.#dispatchEntries(event.entries);
        break;
      case 'outbox-changed':
        if (this.#state.verified) this.#dispatch('outbox', { messages: event.messages });
        break;
      case 'message-delivered':
        if (this.#state.verified) this.#dispatch('message-delivered', { entry: event.entry });
        break;
      case 'connectivity':
        this.#setOnline(event.online);
        break;
    }
  }

  /**
   * Calls the worker, within its time limit: longer for calls that may wait out a grace window
   * (R6). A worker that dies meanwhile costs a re-send, not the limit (TabChannel).
   */
  async #call<M extends TabMethod>(method: M, ...args: Parameters<TabApi[M]>) {
    return this.#channel.call(method, args, this.#policy.admit(method, this.#ready));
  }

  /** What a (re)connect re-presents to a host that may have restarted: in memory only (R10). */
  #credential(): RestoreCredential | undefined {
    const token = this.#identityToken;
    return token ? { identityToken: token, sessionVersion: this.#state.sessionVersion } : undefined;
  }

  /**
   * A host welcomed this tab (the first time, after it restarted, or after the back/forward
   * cache): the one place the tab reconciles with the host's state. Refused the token because the
   * session was cleared since this tab's version, the tab clears itself with the host's reason —
   * it missed the clear while the host was down or the tab frozen (R7, R10). The welcome's state
   * holds only the fields read here (parseTabState keeps no others).
   */
  #rejoin({ state, restored }: Welcome): void {
    // A restarted host knows no follower yet: follow again (a no-op unless this tab watches).
    if (restored?.ok) void this.#follow();
    if (restored && !restored.ok && restored.error.code === 'ERR_SESSION_CLEARED') {
      this.#clearLocally(
        Math.max(state.sessionVersion, this.#state.sessionVersion),
        state.lastClearReason ?? 'logout',
      );
    } else if (
      state.sessionVersion > this.#state.sessionVersion &&
      (state.verified || !this.#identityToken)
    ) {
      // News this tab missed that needs no event: the version moved on (a resumed session).
      const { conversationId } = state;
      this.#state = {
        ...this.#state,
        sessionVersion: state.sessionVersion,
        ...(conversationId ? { conversationId } : {}),
      };
    }
  }

  #setOnline(online: boolean): void {
    if (this.#online === online) return;
    this.#online = online;
    this.#dispatch('connectivity', { online });
  }

  #adopt(identityToken: string, claims: IdentityClaims): void {
    this.#identityToken = identityToken;
    const { graceDeadline: _ended, ...rest } = this.#state;
    this.#state = { ...rest, verified: true, subject: { iss: claims.iss, sub: claims.sub } };
    this.#refresh?.schedule(claims.exp);
    this.#dispatch('verified', claims);
  }

  #clearLocally(sessionVersion: number, reason: ClearReason): void {
    if (sessionVersion < this.#state.sessionVersion) return;
    const wasCleared = sessionVersion === this.#state.sessionVersion && !this.#state.verified;
    this.#refresh?.reset();
    this.#identityToken = undefined;
    this.#state = { sessionVersion, verified: false };
    if (wasCleared && reason === 'logout') return;
    this.#dispatch('session-cleared', { reason });
    this.#announceReady();
  }

  #announceReady(): void {
    this.#dispatch('ready', {});
    if (!this.#state.verified) void this.#refresh?.ask();
  }

  #dispatch<K extends keyof TabwardenEventMap>(type: K, detail: TabwardenEventMap[K]): void {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}

/**
 * @internal Builds the page client on `transport` and completes its handshake: what
 * `createTabwarden` and the test kit do once they chose a transport. Not exported by the package.
 */
export async function openTabwarden(
  transport: ChannelTransport,
  tabId: string,
  options: TabwardenClientOptions,
  clock?: Clock,
): Promise<Tabwarden> {
  // No clock: the constructor's default, the system's.
  return openClient(transport, tabId, options, clock);
}
