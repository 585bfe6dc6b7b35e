import * as Comlink from 'comlink';
import { PROTOCOL_VERSION, type TabApi } from '../core/protocol.ts';
import { parseEventMessage } from '../core/validate-message.ts';
import { callWithTimeout } from './call-with-timeout.ts';
import type { EventSink, TabMethod, WorkerLink } from './worker-link.ts';

/**
 * The link to a SharedWorker, which lives while any tab is connected: one port for the tab's
 * life carries every call (comlink), and the worker's own port carries events.
 */
export class SharedWorkerLink implements WorkerLink {
  readonly kind = 'shared-worker';
  readonly #worker: SharedWorker;
  readonly #api: Comlink.Remote<TabApi>;
  readonly #port: MessagePort;

  constructor(scriptUrl: string, tabId: string, sink: EventSink) {
    this.#worker = new SharedWorker(scriptUrl, { type: 'module', name: 'tabwarden' });
    this.#worker.port.onmessage = (event) => {
      // A port has no origin; only same-origin pages can construct this worker.
      const message = parseEventMessage(event.data, location.origin, location.origin, tabId);
      if (!message) return;
      const ack = event.ports[0];
      void Promise.resolve(sink(message)).finally(() => ack?.postMessage('ack'));
    };
    const { port1, port2 } = new MessageChannel();
    this.#worker.port.postMessage({ type: 'tabwarden:connect', protocol: PROTOCOL_VERSION, tabId }, [port2]);
    this.#port = port1;
    this.#api = Comlink.wrap<TabApi>(port1);
  }

  call<M extends TabMethod>(
    method: M,
    args: Parameters<TabApi[M]>,
    timeoutMs: number,
  ): Promise<Awaited<ReturnType<TabApi[M]>>> {
    return callWithTimeout(this.#api, timeoutMs, method, args);
  }

  close(): void {
    this.#port.close();
    this.#worker.port.close();
  }
}
