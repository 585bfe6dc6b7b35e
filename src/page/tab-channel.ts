import { systemClock, type Clock } from '../core/clock.ts';
import { TabwardenError } from '../core/errors.ts';
import { instanceLockName } from '../core/host-instance-lock.ts';
import {
  PROTOCOL_VERSION,
  type HostMessage,
  type RestoreCredential,
  type TabApi,
  type TabMessage,
  type WorkerEvent,
} from '../core/protocol.ts';
import { parseHostMessage } from '../core/validate-message.ts';

/** The three ways a tab reaches the shared engine (R11). */
export type TransportKind = 'service-worker' | 'shared-worker' | 'in-page';

/** A method of the host's {@link TabApi} that a tab calls. */
export type TabMethod = Exclude<keyof TabApi, 'subscribe'>;

/** A welcome from the host: its instance and this tab's state there. */
export type Welcome = HostMessage & { type: 'tabwarden:welcome' };

/**
 * What carries the tab channel: each transport adapts its postMessage to this, and nothing more.
 */
export interface ChannelTransport {
  readonly kind: TransportKind;
  /**
   * True when a host that (re)started tells every tab so by itself (a service worker, the
   * in-page leader): a tab that learns of a death while idle then waits for that, rather than
   * wake a stopped service worker. A SharedWorker does not: the tab re-connects at once.
   */
  readonly announcesRestart: boolean;
  /**
   * How often a tab that follows the live entries must say so to keep its host, and the stream
   * the host holds, alive; absent when the host lives as long as its tabs do.
   */
  readonly followKeepAliveMs?: number;
  /** Hands the transport what it delivers: every message from the host, and a fatal failure. */
  open(receive: (data: unknown) => void, fail: (error: TabwardenError) => void): void;
  /**
   * Posts to the host; may throw a coded error (no host to post to). A connect opens a new route
   * back (a fresh port); the host answers that connect, and everything after it, on that route.
   */
  post(message: TabMessage): void;
  close(): void;
}

/** What the channel asks of the tab's client (`Tabwarden`). */
export interface ChannelClient {
  /** The in-memory token and the last session version known, for a (re)connect (R10). */
  credential(): RestoreCredential | undefined;
  /** A host welcomed the tab: reconcile with its state (R7, R10), before calls are re-sent. */
  welcomed(welcome: Welcome): void;
  /** One event from the host; once it settles, the channel confirms it (R7). */
  handleEvent(event: WorkerEvent): void | Promise<void>;
}

/** Web Locks: in secure contexts only (and not in Node). */
const hasLocks = () => typeof navigator !== 'undefined' && navigator.locks !== undefined;

interface PendingCall {
  message: TabMessage;
  resolve(result: unknown): void;
}

/**
 * The page end of the tab channel (the host end is src/sw/tab-channel-host.ts). A call has a
 * deadline and an id; an event is confirmed by an ack of its id. This is the one place that
 * learns the host died — its instance's Web Lock is granted, or a host that (re)started says
 * so — and then re-connects, re-presenting the tab's in-memory token, and re-sends every call
 * still unanswered, with its id (R10).
 *
 * @example
 * ```ts
 * const channel = new TabChannel(transport, crypto.randomUUID(), client);
 * const result = await channel.call('startConversation', [], 10_000);
 * ```
 */
export class TabChannel {
  readonly #transport: ChannelTransport;
  readonly #tabId: string;
  readonly #client: ChannelClient;
  /** Whose time the calls' deadlines run on. */
  readonly #clock: Clock;
  readonly #pending = new Map<string, PendingCall>();
  /** Host instances whose end this tab waits for (their Web Locks). */
  readonly #watched = new Set<string>();
  #lastId = 0;
  /** The host instance that welcomed this tab; undefined until (re)connected. */
  #instanceId: string | undefined;
  /** A connect is on its way and no welcome came yet. */
  #connecting = false;
  #failed: TabwardenError | undefined;

  constructor(transport: ChannelTransport, tabId: string, client: ChannelClient, clock: Clock = systemClock) {
    this.#transport = transport;
    this.#tabId = tabId;
    this.#client = client;
    this.#clock = clock;
    transport.open(
      (data) => this.#receive(data),
      (error) => {
        this.#failed = error;
        for (const { resolve } of this.#pending.values()) resolve(Promise.reject(error));
      },
    );
  }

  get kind(): TransportKind {
    return this.#transport.kind;
  }

  /** See {@link ChannelTransport.followKeepAliveMs}. */
  get followKeepAliveMs(): number | undefined {
    return this.#transport.followKeepAliveMs;
  }

  /**
   * Calls one method; rejects ERR_TIMEOUT when no answer comes within `timeoutMs` — the call's
   * own limit, never the way a dead host is noticed — and never hangs.
   */
  call<M extends TabMethod>(
    method: M,
    args: Parameters<TabApi[M]>,
    timeoutMs: number,
  ): Promise<Awaited<ReturnType<TabApi[M]>>> {
    if (this.#failed) return Promise.reject(this.#failed);
    const id = String(++this.#lastId);
    const message: TabMessage = {
      type: 'tabwarden:call',
      protocol: PROTOCOL_VERSION,
      tabId: this.#tabId,
      id,
      method,
      args: args as unknown[],
    };
    let cancelTimer: (() => void) | undefined;
    const answer = new Promise<Awaited<ReturnType<TabApi[M]>>>((resolve, reject) => {
      this.#pending.set(id, { message, resolve: resolve as (result: unknown) => void });
      cancelTimer = this.#clock.setTimer(() => {
        // A connect that was never welcomed (its host died first) is tried again by the next call;
        // without Web Locks the host may have died unnoticed, so the next call re-connects.
        this.#connecting = false;
        if (!hasLocks()) this.#instanceId = undefined;
        reject(
          new TabwardenError('ERR_TIMEOUT', `The worker did not answer ${method} within ${timeoutMs} ms`),
        );
      }, timeoutMs);
      if (this.#instanceId === undefined) this.#connect();
      else this.#transport.post(message);
    });
    return answer.finally(() => {
      cancelTimer?.();
      this.#pending.delete(id);
    });
  }

  /**
   * Joins the host again and reconciles with its state, as after a restart: for a tab back from
   * the back/forward cache, which may have missed anything meanwhile (R7, R10).
   */
  reconnect(): void {
    this.#instanceId = undefined;
    this.#connect(true);
  }

  close(): void {
    this.#transport.close();
  }

  #connect(again = false): void {
    if (this.#connecting && !again) return;
    this.#connecting = true;
    const connect: TabMessage = { type: 'tabwarden:connect', protocol: PROTOCOL_VERSION, tabId: this.#tabId };
    const restore = this.#client.credential();
    if (restore) connect.restore = restore;
    this.#transport.post(connect);
  }

  #receive(data: unknown): void {
    const message = parseHostMessage(data, this.#tabId);
    switch (message?.type) {
      case 'tabwarden:welcome':
        this.#welcome(message);
        break;
      case 'tabwarden:started':
        // A host that does not know this tab, or a new one, wherever this tab was connected.
        if (message.tabId !== '*' || message.instanceId !== this.#instanceId) this.reconnect();
        break;
      case 'tabwarden:reply':
        this.#pending.get(message.id)?.resolve(message.result);
        break;
      case 'tabwarden:event': {
        const ack: TabMessage = {
          type: 'tabwarden:ack',
          protocol: PROTOCOL_VERSION,
          tabId: this.#tabId,
          id: message.id,
        };
        void Promise.resolve()
          .then(() => this.#client.handleEvent(message.event))
          .finally(() => this.#transport.post(ack));
        break;
      }
    }
  }

  #welcome(welcome: Welcome): void {
    this.#connecting = false;
    this.#instanceId = welcome.instanceId;
    this.#watch(welcome.instanceId);
    // Every call still unanswered goes (again) to this host: one that reached a dead host was lost
    // with it, one that is still running here joins its run (same id), and what a finished one did
    // is not done twice (single-flight exchange, client message id, idempotent clear). Those the
    // client makes while it reconciles are posted already.
    const unanswered = [...this.#pending.values()];
    this.#client.welcomed(welcome);
    for (const { message } of unanswered) this.#transport.post(message);
  }

  /** Learns of the end of `instanceId` the moment the browser releases its Web Lock. */
  #watch(instanceId: string): void {
    if (this.#watched.has(instanceId) || !hasLocks()) return;
    this.#watched.add(instanceId);
    void navigator.locks.request(instanceLockName(instanceId), () => {
      this.#watched.delete(instanceId);
      if (this.#instanceId !== instanceId) return;
      this.#instanceId = undefined;
      // Idle, and the next host will say it started: no need to wake a stopped service worker.
      if (this.#pending.size > 0 || !this.#transport.announcesRestart) this.#connect(true);
    });
  }
}
