import { TabwardenError } from '../core/errors.ts';
import type { TabMessage } from '../core/protocol.ts';
import type { ChannelTransport } from './tab-channel.ts';

/**
 * The tab channel over a service worker. The browser stops an idle service worker whenever it
 * likes, and a port to a stopped worker goes silent. So what the tab asks goes through
 * `controller.postMessage`, which wakes a stopped worker (R10); the worker answers on a port the
 * tab's latest connect handed it (a port reaches the tab directly, where a post to the window
 * client goes through the browser process), and posts to the window only to say it started. An
 * event's acknowledgement goes back on that port: it matters only to the running worker that sent
 * the event, and a post to the controller costs the tab and the worker a dispatch through the
 * browser process each (measured: several ms of the tab's main thread per event).
 */
export class ServiceWorkerTransport implements ChannelTransport {
  readonly kind = 'service-worker';
  // A restarted worker posts `started` to every window it controls.
  readonly announcesRestart = true;
  // Chromium stops a service worker 30 s after its last event, and the fetch stream it holds with
  // it; a message from a tab is an event. A following tab says so this often (measured: README,
  // "Where the live stream lives").
  readonly followKeepAliveMs = 10_000;
  readonly #container: ServiceWorkerContainer;
  #receive: (data: unknown) => void = () => {};
  readonly #onMessage = (event: MessageEvent) => {
    if (event.origin === location.origin) this.#receive(event.data);
  };
  /** The tab's end of the route its latest connect opened. */
  #port: MessagePort | undefined;

  constructor(container: ServiceWorkerContainer) {
    this.#container = container;
  }

  open(receive: (data: unknown) => void): void {
    this.#receive = receive;
    this.#container.addEventListener('message', this.#onMessage);
    // Messages from the worker are queued until the page opts in.
    this.#container.startMessages();
  }

  post(message: TabMessage): void {
    const controller = this.#container.controller;
    if (!controller) throw new TabwardenError('ERR_NOT_READY', 'No service worker controls this page');
    if (message.type === 'tabwarden:ack' && this.#port) return this.#port.postMessage(message);
    if (message.type !== 'tabwarden:connect') return controller.postMessage(message);
    const { port1, port2 } = new MessageChannel();
    this.#port?.close();
    this.#port = port1;
    // A port only this tab and the worker hold: what arrives on it comes from the worker.
    port1.onmessage = (event) => this.#receive(event.data);
    controller.postMessage(message, [port2]);
  }

  close(): void {
    this.#container.removeEventListener('message', this.#onMessage);
    this.#port?.close();
  }
}
