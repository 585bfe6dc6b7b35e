import type { Browser, BrowserContext, Page } from '@playwright/test';
import { takeSharedWorkersOffline } from '../browser/shared-worker-control.ts';
import type { Route } from '../front-door.ts';
import type { TestAppServer } from './test-app-server.ts';

/**
 * The `network` fixture: the whole browser profile offline and online again (pages, the
 * service worker, SharedWorkers), or one route of the server slow, failing or cut.
 */
export class NetworkControl {
  readonly #context: BrowserContext;
  readonly #browser: Browser;
  readonly #server: TestAppServer;
  readonly #tabs: () => Page[];
  #reconnectSharedWorkers: (() => Promise<void>) | undefined;

  /** @internal Made by the `network` fixture. */
  constructor(options: {
    context: BrowserContext;
    browser: Browser;
    server: TestAppServer;
    tabs: () => Page[];
  }) {
    this.#context = options.context;
    this.#browser = options.browser;
    this.#server = options.server;
    this.#tabs = options.tabs;
  }

  /**
   * Cuts every tab and worker off the network: fetches fail, `navigator.onLine` is false.
   * (Chromium's context switch reaches pages and service workers; SharedWorkers are taken
   * offline one by one through the DevTools protocol.)
   */
  async offline(): Promise<void> {
    await this.#context.setOffline(true);
    const origin = new URL(this.#server.url).origin;
    const running = this.#tabs().length > 0;
    if (running && !this.#reconnectSharedWorkers) {
      this.#reconnectSharedWorkers = await takeSharedWorkersOffline(this.#browser, origin).catch(
        () => undefined, // no SharedWorker runs: nothing more to cut
      );
    }
  }

  /** Reconnects everything {@link offline} cut. */
  async online(): Promise<void> {
    const reconnect = this.#reconnectSharedWorkers;
    this.#reconnectSharedWorkers = undefined;
    try {
      await reconnect?.();
    } finally {
      await this.#context.setOffline(false);
    }
  }

  /** Delays every request of `route` (default every request) by `delayMs` before it reaches the server. */
  slow(delayMs: number, route: Route = '*'): void {
    this.#server.slow(route, delayMs);
  }

  /** Drops the connection of every request of `route`: a network error, as a dead proxy gives. */
  cut(route: Route): void {
    this.#server.cut(route);
  }

  /** Undoes {@link slow} and {@link cut} for `route`, or for every route. */
  heal(route?: Route): void {
    this.#server.heal(route);
  }
}
