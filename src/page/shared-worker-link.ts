import * as Comlink from 'comlink';
import { TabwardenError } from '../core/errors.ts';
import { eventMessage, reconnectRequest } from '../core/event-message.ts';
import { PROTOCOL_VERSION, type TabApi } from '../core/protocol.ts';
import { parseEventMessage } from '../core/validate-message.ts';
import { callWithTimeout } from './call-with-timeout.ts';
import type { EventSink, TabMethod, WorkerLink } from './worker-link.ts';
import { workerUnavailable } from './worker-unavailable.ts';

/** Held by the SharedWorker for its whole life (see src/sw/shared-worker.ts). */
export const SHARED_WORKER_LOCK = 'tabwarden:shared-worker';

/**
 * The link to a SharedWorker, which lives while any tab is connected: one port for the tab's
 * life carries every call (comlink), and the worker's own port carries events. A port to a dead
 * worker goes silent, so the link watches a Web Lock the worker holds while it lives: when the
 * lock frees, the worker is gone, and the link starts a new one, fails the calls in flight so the
 * client retries them there, and asks the tab to re-present its token (R10).
 */
export class SharedWorkerLink implements WorkerLink {
  readonly kind = 'shared-worker';
  readonly #scriptUrl: string;
  readonly #tabId: string;
  readonly #sink: EventSink;
  readonly #inFlight = new Set<(error: Error) => void>();
  #worker!: SharedWorker;
  #port!: MessagePort;
  #api!: Comlink.Remote<TabApi>;
  #closed = false;
  /** Why the worker script did not start, once it failed: every call fails with it. */
  #unavailable: TabwardenError | undefined;

  constructor(scriptUrl: string, tabId: string, sink: EventSink) {
    this.#scriptUrl = scriptUrl;
    this.#tabId = tabId;
    this.#sink = sink;
    this.#open();
  }

  #open(): void {
    const tabId = this.#tabId;
    this.#worker = new SharedWorker(this.#scriptUrl, { type: 'module', name: 'tabwarden' });
    // Fired when the script fails to load or to evaluate, never for errors while it runs.
    this.#worker.addEventListener('error', (event) => void this.#failToStart(event));
    this.#worker.port.onmessage = (event) => {
      // A port has no origin; only same-origin pages can construct this worker.
      const message = parseEventMessage(event.data, location.origin, location.origin, tabId);
      if (!message) return;
      const ack = event.ports[0];
      void Promise.resolve(this.#sink(message)).finally(() => ack?.postMessage('ack'));
    };
    const { port1, port2 } = new MessageChannel();
    this.#worker.port.postMessage({ type: 'tabwarden:connect', protocol: PROTOCOL_VERSION, tabId }, [port2]);
    this.#port = port1;
    this.#api = Comlink.wrap<TabApi>(port1);
    // Once the worker answers, it has taken its lock: waiting for the lock is waiting for its end.
    void this.#api.hello().then(() => navigator.locks?.request(SHARED_WORKER_LOCK, () => this.#reopen()));
  }

  #reopen(): void {
    if (this.#closed) return;
    this.#port.close();
    this.#open();
    const gone = new TabwardenError(
      'ERR_TIMEOUT',
      'The SharedWorker stopped; the call is retried on a new one',
    );
    for (const fail of this.#inFlight) fail(gone);
    void this.#sink(eventMessage(this.#tabId, reconnectRequest(0)));
  }

  async #failToStart(cause: Event): Promise<void> {
    this.#unavailable =
      (await workerUnavailable('SharedWorker', this.#scriptUrl, cause)) ??
      new TabwardenError('ERR_WORKER_UNAVAILABLE', 'The SharedWorker script failed to start', { cause });
    for (const fail of this.#inFlight) fail(this.#unavailable);
  }

  call<M extends TabMethod>(
    method: M,
    args: Parameters<TabApi[M]>,
    timeoutMs: number,
  ): Promise<Awaited<ReturnType<TabApi[M]>>> {
    if (this.#unavailable) return Promise.reject(this.#unavailable);
    return new Promise((resolve, reject) => {
      this.#inFlight.add(reject);
      callWithTimeout(this.#api, timeoutMs, method, args)
        .then(resolve, reject)
        .finally(() => this.#inFlight.delete(reject));
    });
  }

  close(): void {
    this.#closed = true;
    this.#port.close();
    this.#worker.port.close();
  }
}
