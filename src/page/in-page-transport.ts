import { TabwardenError } from '../core/errors.ts';
import type { TabMessage } from '../core/protocol.ts';
import type { WorkerConfig } from '../core/worker-config.ts';
import type { ChannelTransport } from './tab-channel.ts';
import { workerUnavailable } from './worker-unavailable.ts';

/** What the leader bundle (`tabwarden-in-page-host.js`) exports: see src/sw/in-page-leader.ts. */
interface LeaderModule {
  startLeader(config: WorkerConfig, channel: BroadcastChannel, local: MessagePort): Promise<unknown>;
}

const LOCK = 'tabwarden-leader';
const CHANNEL = 'tabwarden';

/**
 * The tab channel where neither a service worker nor a SharedWorker exists (R11). Tabs elect a
 * leader with Web Locks; the leader loads the engine and serves every tab: the others over a
 * BroadcastChannel (which carries no ports, so every message names its tab), its own tab over a
 * port. When the leader's tab goes away its lock is released, the next tab in line takes over,
 * restores the session from IndexedDB and says it started (R10).
 */
export class InPageTransport implements ChannelTransport {
  readonly kind = 'in-page';
  // A new leader posts `started` on the channel.
  readonly announcesRestart = true;
  readonly #channel = new BroadcastChannel(CHANNEL);
  /** Once this tab leads: its own port to the host in this page. */
  #local: MessagePort | undefined;
  #receive: (data: unknown) => void = () => {};

  private constructor() {
    this.#channel.addEventListener('message', (event) => this.#receive(event.data));
  }

  /** Joins the tabs of this origin: leads at once if no tab does, else follows and waits in line. */
  static async create(hostUrl: string, config: WorkerConfig): Promise<InPageTransport> {
    if (!navigator.locks) {
      throw new TabwardenError('ERR_NOT_READY', 'The in-page transport needs Web Locks (a secure context)');
    }
    const transport = new InPageTransport();
    const lead = async () => {
      const module = (await import(/* @vite-ignore */ hostUrl).catch(async (error: unknown) => {
        throw (
          (await workerUnavailable('in-page host', hostUrl, error)) ??
          new TabwardenError('ERR_WORKER_UNAVAILABLE', `The in-page host ${hostUrl} failed to load`, {
            cause: error,
          })
        );
      })) as LeaderModule;
      const { port1, port2 } = new MessageChannel();
      await module.startLeader(config, transport.#channel, port2);
      // From now on this tab talks to the host in this page; it said it started on the port.
      port1.onmessage = (event) => transport.#receive(event.data);
      transport.#local = port1;
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
    return transport;
  }

  open(receive: (data: unknown) => void): void {
    this.#receive = receive;
  }

  post(message: TabMessage): void {
    (this.#local ?? this.#channel).postMessage(message);
  }

  close(): void {
    this.#local?.close();
    this.#channel.close();
  }
}
