import * as Comlink from 'comlink';
import { TabwardenError } from '../core/errors.ts';
import { PROTOCOL_VERSION, type TabApi } from '../core/protocol.ts';
import { parseEventMessage } from '../core/validate-message.ts';
import { callWithTimeout } from './call-with-timeout.ts';
import type { EventSink, TabMethod, WorkerLink } from './worker-link.ts';

/**
 * The link to a service worker. The browser stops an idle service worker whenever it likes, and
 * a MessagePort to a stopped worker goes silent with no close event. So every call travels
 * through `controller.postMessage`, which wakes the worker, with a fresh port that lives for
 * that one call (R10). Events come back as messages to the page, each with a port to confirm on.
 */
export class ServiceWorkerLink implements WorkerLink {
  readonly kind = 'service-worker';
  readonly #container: ServiceWorkerContainer;
  readonly #tabId: string;
  readonly #onMessage: (event: MessageEvent) => void;

  constructor(container: ServiceWorkerContainer, tabId: string, sink: EventSink) {
    this.#container = container;
    this.#tabId = tabId;
    this.#onMessage = (event) => {
      const message = parseEventMessage(event.data, event.origin, location.origin, tabId);
      if (!message) return;
      const ack = event.ports[0];
      void Promise.resolve(sink(message)).finally(() => ack?.postMessage('ack'));
    };
    container.addEventListener('message', this.#onMessage);
    // Messages from the worker are queued until the page opts in.
    container.startMessages();
  }

  async call<M extends TabMethod>(
    method: M,
    args: Parameters<TabApi[M]>,
    timeoutMs: number,
  ): Promise<Awaited<ReturnType<TabApi[M]>>> {
    const controller = this.#container.controller;
    if (!controller) throw new TabwardenError('ERR_NOT_READY', 'No service worker controls this page');
    const { port1, port2 } = new MessageChannel();
    controller.postMessage({ type: 'tabwarden:connect', protocol: PROTOCOL_VERSION, tabId: this.#tabId }, [
      port2,
    ]);
    const api = Comlink.wrap<TabApi>(port1);
    try {
      return await callWithTimeout(api, timeoutMs, method, args);
    } finally {
      // Referencing the proxy until here also keeps it from being collected mid-call, which would
      // make comlink release the port under the call (GoogleChromeLabs/comlink#692).
      void api[Comlink.releaseProxy]();
    }
  }

  close(): void {
    this.#container.removeEventListener('message', this.#onMessage);
  }
}
