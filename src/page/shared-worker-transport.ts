import { TabwardenError } from '../core/errors.ts';
import type { TabMessage } from '../core/protocol.ts';
import type { ChannelTransport } from './tab-channel.ts';
import { workerUnavailable } from './worker-unavailable.ts';

/**
 * The tab channel over a SharedWorker, which lives while any tab holds it. Each connect opens a
 * SharedWorker anew — the same worker while it lives, a new one after it died — and its port
 * carries everything until the next connect.
 */
export class SharedWorkerTransport implements ChannelTransport {
  readonly kind = 'shared-worker';
  // A new SharedWorker has no port to any tab: tabs re-connect as soon as they learn of a death.
  readonly announcesRestart = false;
  readonly #scriptUrl: string;
  #receive: (data: unknown) => void = () => {};
  #fail: (error: TabwardenError) => void = () => {};
  #worker: SharedWorker | undefined;

  constructor(scriptUrl: string) {
    this.#scriptUrl = scriptUrl;
  }

  open(receive: (data: unknown) => void, fail: (error: TabwardenError) => void): void {
    this.#receive = receive;
    this.#fail = fail;
  }

  post(message: TabMessage): void {
    if (message.type === 'tabwarden:connect' || !this.#worker) this.#open();
    this.#worker!.port.postMessage(message);
  }

  #open(): void {
    this.#worker?.port.close();
    const worker = new SharedWorker(this.#scriptUrl, { type: 'module', name: 'tabwarden' });
    // Fired when the script fails to load or to evaluate, never for errors while it runs.
    worker.addEventListener('error', (event) => void this.#failToStart(event));
    // A port has no origin; only same-origin pages can construct this worker.
    worker.port.onmessage = (event) => this.#receive(event.data);
    this.#worker = worker;
  }

  async #failToStart(cause: Event): Promise<void> {
    this.#fail(
      (await workerUnavailable('SharedWorker', this.#scriptUrl, cause)) ??
        new TabwardenError('ERR_WORKER_UNAVAILABLE', 'The SharedWorker script failed to start', { cause }),
    );
  }

  close(): void {
    this.#worker?.port.close();
  }
}
