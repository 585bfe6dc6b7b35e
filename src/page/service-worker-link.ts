import * as Comlink from 'comlink';
import { TabwardenError } from '../core/errors.ts';
import {
  PROTOCOL_VERSION,
  type ConnectMessage,
  type EventAck,
  type RestoreCredential,
  type TabApi,
} from '../core/protocol.ts';
import { parseEventMessage } from '../core/validate-message.ts';
import { systemClock, withTimeout } from '../core/clock.ts';
import { CallProber } from './call-prober.ts';
import type { EventSink, TabMethod, WorkerLink } from './worker-link.ts';

/**
 * The link to a service worker. The browser stops an idle service worker whenever it likes, and
 * a MessagePort to a stopped worker goes silent with no close event. So every call travels
 * through `controller.postMessage`, which wakes the worker, with a fresh port that lives for
 * that one call (R10). Events come back on an event port the tab hands the worker with a call,
 * confirmed there by id — or, from a worker that holds no port of this tab, as messages to the
 * page with a port to confirm on. A worker that just started asks every tab to reconnect, and
 * the tab hands it a new event port with its next call.
 */
export class ServiceWorkerLink implements WorkerLink {
  readonly kind = 'service-worker';
  readonly #container: ServiceWorkerContainer;
  readonly #tabId: string;
  readonly #onMessage: (event: MessageEvent) => void;
  readonly #receive: (data: unknown, origin: string, confirm: (ackId?: number) => void) => void;
  /** Learns promptly that a call died with the worker that had it (R10). */
  readonly #prober: CallProber;
  /** The event port this tab last handed the worker, while the worker is believed to hold it. */
  #eventPort: MessagePort | undefined;

  constructor(container: ServiceWorkerContainer, tabId: string, sink: EventSink) {
    this.#container = container;
    this.#tabId = tabId;
    this.#prober = new CallProber(container);
    this.#receive = (data, origin, confirm) => {
      const message = parseEventMessage(data, origin, location.origin, tabId);
      if (!message) return;
      // Only a worker that just started (or took over) speaks to every tab: it holds no event
      // port of this one, so the next call hands it one. Other posts to the window are events
      // decided before the port arrived; the port stays.
      if (message.tabId === '*') {
        this.#eventPort?.close();
        this.#eventPort = undefined;
      }
      void Promise.resolve(sink(message)).finally(() => confirm(message.ackId));
    };
    this.#onMessage = (event) =>
      this.#receive(event.data, event.origin, () => event.ports[0]?.postMessage('ack'));
    container.addEventListener('message', this.#onMessage);
    // Messages from the worker are queued until the page opts in.
    container.startMessages();
  }

  async call<M extends TabMethod>(
    method: M,
    args: Parameters<TabApi[M]>,
    timeoutMs: number,
    restore?: RestoreCredential,
  ): Promise<Awaited<ReturnType<TabApi[M]>>> {
    if (!this.#container.controller) {
      throw new TabwardenError('ERR_NOT_READY', 'No service worker controls this page');
    }
    const callId = crypto.randomUUID();
    const attempts = (async () => {
      // Each attempt ends answered, or lost with the worker that had it: then re-sent at once.
      for (;;) {
        const answer = await this.#attempt(callId, method, args, restore);
        if (answer) return answer.value;
      }
    })();
    try {
      return await withTimeout(
        attempts,
        timeoutMs,
        systemClock,
        () => new TabwardenError('ERR_TIMEOUT', `The worker did not answer ${method} within ${timeoutMs} ms`),
      );
    } finally {
      this.#prober.forget(callId);
    }
  }

  /** Sends the call once; resolves its answer, or `undefined` when a probe found it lost. */
  async #attempt<M extends TabMethod>(
    callId: string,
    method: M,
    args: Parameters<TabApi[M]>,
    restore: RestoreCredential | undefined,
  ): Promise<{ value: Awaited<ReturnType<TabApi[M]>> } | undefined> {
    const controller = this.#container.controller;
    if (!controller) throw new TabwardenError('ERR_NOT_READY', 'No service worker controls this page');
    const { port1, port2 } = new MessageChannel();
    const connect: ConnectMessage = {
      type: 'tabwarden:connect',
      protocol: PROTOCOL_VERSION,
      tabId: this.#tabId,
      callId,
    };
    if (restore) connect.restore = restore;
    const transfer = [port2];
    if (!this.#eventPort) {
      const events = new MessageChannel();
      // A port only this tab and the worker hold: what arrives on it comes from the worker.
      // Confirmed on the port it came on: ids count per port.
      const confirm = (ackId?: number) =>
        ackId !== undefined && events.port1.postMessage({ type: 'tabwarden:ack', ackId } satisfies EventAck);
      events.port1.onmessage = (event) => this.#receive(event.data, location.origin, confirm);
      this.#eventPort = events.port1;
      connect.listen = true;
      transfer.push(events.port2);
    }
    controller.postMessage(connect, transfer);
    const lost = this.#prober.watch(callId);
    const api = Comlink.wrap<TabApi>(port1);
    try {
      const remote = api[method] as unknown as (...a: unknown[]) => Promise<Awaited<ReturnType<TabApi[M]>>>;
      return await Promise.race([remote(...args).then((value) => ({ value })), lost.then(() => undefined)]);
    } finally {
      // Referencing the proxy until here also keeps it from being collected mid-call, which would
      // make comlink release the port under the call (GoogleChromeLabs/comlink#692).
      void api[Comlink.releaseProxy]();
      port1.close();
    }
  }

  close(): void {
    this.#prober.close();
    this.#container.removeEventListener('message', this.#onMessage);
    this.#eventPort?.close();
  }
}
