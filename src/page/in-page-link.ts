import { systemClock, withTimeout } from '../core/clock.ts';
import { TabwardenError } from '../core/errors.ts';
import { eventMessage } from '../core/event-message.ts';
import { PROTOCOL_VERSION, type LeaderMessage, type TabApi } from '../core/protocol.ts';
import { parseLeaderMessage } from '../core/validate-leader-message.ts';
import type { WorkerConfig } from '../core/worker-config.ts';
import type { EventSink, TabMethod, WorkerLink } from './worker-link.ts';
import { workerUnavailable } from './worker-unavailable.ts';

/** What the leader bundle (`tabwarden-in-page-host.js`) exports. */
interface LeaderModule {
  startLeader(
    config: WorkerConfig,
    channel: BroadcastChannel,
    ownTabId: string,
    ownSink: EventSink,
  ): Promise<{ call(method: TabMethod, args: unknown[]): Promise<unknown>; announce(): void; close(): void }>;
}

const LOCK = 'tabwarden-leader';
const CHANNEL = 'tabwarden';

/**
 * The in-page transport, where neither a service worker nor a SharedWorker exists (R11). Tabs
 * elect a leader with Web Locks; the leader loads the engine and serves the others over a
 * BroadcastChannel. When the leader's tab goes away its lock is released, the next tab in line
 * takes over and restores the session from IndexedDB (R10); calls in flight time out and are
 * retried by the client.
 */
export class InPageLink implements WorkerLink {
  readonly kind = 'in-page';
  readonly #tabId: string;
  readonly #channel = new BroadcastChannel(CHANNEL);
  /** Calls sent over the channel and not answered yet, so a new leader can be asked again. */
  readonly #pending = new Map<
    string,
    { message: LeaderMessage & { type: 'tabwarden:call' }; resolve(result: unknown): void }
  >();
  #leader: Awaited<ReturnType<LeaderModule['startLeader']>> | undefined;

  private constructor(tabId: string, sink: EventSink) {
    this.#tabId = tabId;
    this.#channel.addEventListener('message', (event) => {
      const message = parseLeaderMessage(event.data);
      if (message?.type === 'tabwarden:reply' && message.tabId === tabId) {
        this.#pending.get(message.callId)?.resolve(message.result);
      }
      if (message?.type === 'tabwarden:event' && message.event.type === 'identity-token-requested') {
        // A new leader: what the old one never answered goes to it (calls are idempotent).
        for (const { message: call } of this.#pending.values()) this.#channel.postMessage(call);
      }
      if (message?.type === 'tabwarden:event' && (message.tabId === tabId || message.tabId === '*')) {
        const envelope = eventMessage(tabId, message.event);
        const ack: LeaderMessage = {
          type: 'tabwarden:ack',
          protocol: PROTOCOL_VERSION,
          ackId: message.ackId,
        };
        void Promise.resolve(sink(envelope)).finally(() => this.#channel.postMessage(ack));
      }
    });
  }

  /** Joins the tabs of this origin: leads at once if no tab does, else follows and waits in line. */
  static async create(
    tabId: string,
    sink: EventSink,
    hostUrl: string,
    config: WorkerConfig,
  ): Promise<InPageLink> {
    if (!navigator.locks) {
      throw new TabwardenError('ERR_NOT_READY', 'The in-page transport needs Web Locks (a secure context)');
    }
    const link = new InPageLink(tabId, sink);
    const lead = async () => {
      const module = (await import(/* @vite-ignore */ hostUrl).catch(async (error: unknown) => {
        throw (
          (await workerUnavailable('in-page host', hostUrl, error)) ??
          new TabwardenError('ERR_WORKER_UNAVAILABLE', `The in-page host ${hostUrl} failed to load`, {
            cause: error,
          })
        );
      })) as LeaderModule;
      const leader = await module.startLeader(config, link.#channel, tabId, sink);
      link.#leader = leader;
      // Calls this tab sent to the old leader are answered by this one now.
      for (const [callId, { message, resolve }] of link.#pending) {
        link.#pending.delete(callId);
        void leader.call(message.method as TabMethod, message.args).then(resolve);
      }
      leader.announce();
    };
    // A lock is held while its callback's promise is pending: for a leader, until the page goes.
    const forever = () => new Promise<never>(() => {});
    let started: Promise<void> | undefined;
    await new Promise<void>((decided) => {
      void navigator.locks.request(LOCK, { ifAvailable: true }, (lock) => {
        if (!lock) return decided();
        started = lead();
        decided();
        return started.then(forever);
      });
    });
    if (started) await started;
    else void navigator.locks.request(LOCK, () => lead().then(forever));
    return link;
  }

  call<M extends TabMethod>(
    method: M,
    args: Parameters<TabApi[M]>,
    timeoutMs: number,
  ): Promise<Awaited<ReturnType<TabApi[M]>>> {
    type Result = Awaited<ReturnType<TabApi[M]>>;
    const timeout = () =>
      new TabwardenError('ERR_TIMEOUT', `No leader answered ${method} within ${timeoutMs} ms`);
    if (this.#leader) {
      return withTimeout(this.#leader.call(method, args) as Promise<Result>, timeoutMs, systemClock, timeout);
    }
    const callId = crypto.randomUUID();
    const message = {
      type: 'tabwarden:call' as const,
      protocol: PROTOCOL_VERSION,
      tabId: this.#tabId,
      callId,
      method,
      args: args as unknown[],
    };
    const reply = new Promise<Result>((resolve) =>
      this.#pending.set(callId, { message, resolve: resolve as (result: unknown) => void }),
    );
    this.#channel.postMessage(message);
    return withTimeout(reply, timeoutMs, systemClock, timeout).finally(() => this.#pending.delete(callId));
  }

  close(): void {
    this.#leader?.close();
    this.#channel.close();
  }
}
