import type { Browser, Page } from '@playwright/test';
import { terminateSharedWorkers } from '../browser/shared-worker-control.ts';
import { stopServiceWorker } from '../browser/service-worker-control.ts';
import type { FrontDoor } from '../front-door.ts';

/** The service worker script whose versions {@link WorkerControl.update} makes. */
const SERVICE_WORKER_SCRIPT = 'tabwarden-sw.js';

/**
 * The `worker` fixture: the host of the shared session, stopped, restarted and updated the way
 * browsers do it to your users (R10), whatever transport the tabs use.
 */
export class WorkerControl {
  readonly #browser: Browser;
  readonly #door: FrontDoor;
  readonly #tabs: () => Page[];
  readonly #transportOf: (tab: Page) => Promise<string>;
  #version = 0;

  /** @internal Made by the `worker` fixture. */
  constructor(options: {
    browser: Browser;
    door: FrontDoor;
    tabs: () => Page[];
    transportOf: (tab: Page) => Promise<string>;
  }) {
    this.#browser = options.browser;
    this.#door = options.door;
    this.#tabs = options.tabs;
    this.#transportOf = options.transportOf;
  }

  #firstTab(what: string): Page {
    const tab = this.#tabs()[0];
    if (!tab) throw new Error(`worker.${what}: open a tab first (tabs.open())`);
    return tab;
  }

  /** Which transport the tabs use: `'service-worker'`, `'shared-worker'` or `'in-page'` (R11). */
  transport(): Promise<string> {
    return this.#transportOf(this.#firstTab('transport'));
  }

  /**
   * Stops the worker as a browser does: an idle service worker is stopped (DevTools protocol;
   * the next message starts a fresh one), a SharedWorker's process ends as in a crash. Its
   * memory is gone; what it stored stays. The in-page transport has no worker: close the
   * leader tab instead.
   */
  async stop(): Promise<void> {
    const tab = this.#firstTab('stop');
    const transport = await this.#transportOf(tab);
    if (transport === 'service-worker') {
      await stopServiceWorker(tab);
    } else if (transport === 'shared-worker') {
      if ((await terminateSharedWorkers(this.#browser, new URL(tab.url()).origin)) === 0) {
        throw new Error('worker.stop: no SharedWorker runs for this app');
      }
    } else {
      throw new Error(`worker.stop: the ${transport} transport has no worker to stop`);
    }
  }

  /**
   * Stops the worker and starts a fresh one at once, before any call needs it (a service worker
   * is woken by a message it ignores; the tabs of a SharedWorker start a new one by themselves).
   */
  async restart(): Promise<void> {
    await this.stop();
    const tab = this.#firstTab('restart');
    if ((await this.#transportOf(tab)) === 'service-worker') {
      await tab.evaluate(() => navigator.serviceWorker.controller?.postMessage('wake up'));
    }
  }

  /**
   * Publishes a new version of the service worker script (byte-different, as a deploy makes
   * it) and waits until it controls every open tab: installed, activated, and claimed.
   */
  async update(): Promise<void> {
    const tabs = this.#tabs();
    const first = this.#firstTab('update');
    if ((await this.#transportOf(first)) !== 'service-worker') {
      throw new Error('worker.update: only a service worker has versions');
    }
    const changed = tabs.map((tab) =>
      tab.evaluate(
        () =>
          new Promise<void>((resolve) =>
            navigator.serviceWorker.addEventListener('controllerchange', () => resolve(), { once: true }),
          ),
      ),
    );
    this.#version += 1;
    this.#door.setScriptVersion(SERVICE_WORKER_SCRIPT, this.#version);
    await first.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.update());
    await Promise.all(changed);
  }
}
