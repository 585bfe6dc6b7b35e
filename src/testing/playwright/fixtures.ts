import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test as base, type Page } from '@playwright/test';
import { ShiftedClock } from '../../core/shifted-clock.ts';
import {
  TABWARDEN_WINDOW_EVENTS,
  collectEvents,
  eventsOf,
  waitForEvent,
  type RecordedEvent,
  type WaitForEventOptions,
} from '../browser/collect-events.ts';
import type { StartTestServerOptions } from '../browser/start-test-server.ts';
import { startIdentityProvider, type ServedIdentityProvider } from '../identity-provider-server.ts';
import { NetworkControl } from './network-control.ts';
import { Tabs, type AppEnvironment } from './tabs.ts';
import { startTestAppServer, type TestAppServer } from './test-app-server.ts';
import { TimeMachine } from './time-machine.ts';
import { WorkerControl } from './worker-control.ts';

/** What the fixtures need to know about your app; set with `test.use({ tabwarden: { ... } })`. */
export interface TabwardenKitOptions {
  /** Your built app's static files, served at `/` by the test server (its `staticDir`). */
  appDir?: string;
  /**
   * The page each tab opens, given the server's URL and the test identity provider your app's
   * worker must trust (`issuer`, `jwksUrl`, `audience`). Default `${serverUrl}/`.
   */
  appUrl?: (env: AppEnvironment) => string;
  /**
   * Runs in the page and returns its tabwarden client (what `createTabwarden()` resolved).
   * Default: the script-tag build's `window.embeddedservice_bootstrap.tabwarden`.
   */
  appClient?: () => unknown;
  /** Window events of your own to record beside tabwarden's (for `toHaveDispatched`). */
  recordEvents?: string[];
  /** Reference-server options (docs/server.md), e.g. `{ accessTokenLifetimeSeconds: 60 }`. */
  serverOptions?: StartTestServerOptions;
}

/** The `events` fixture: what each tab dispatched on `window`. */
export interface TabEvents {
  /** The events `tab` dispatched since it loaded, oldest first (only `name` if given). */
  of<Detail = unknown>(tab: Page, name?: string): Promise<RecordedEvent<Detail>[]>;
  /** Waits for the `count`-th `name` in `tab` and resolves with it. */
  wait<Detail = unknown>(
    tab: Page,
    name: string,
    options?: WaitForEventOptions,
  ): Promise<RecordedEvent<Detail>>;
}

/** The fixtures `tabwarden/testing/playwright`'s `test` gives every test. */
export interface TabwardenFixtures {
  /** A test identity provider on 127.0.0.1: its JWKS, good tokens, bad ones by name. */
  identityProvider: ServedIdentityProvider;
  /** The reference server for this test, behind a front door that counts and breaks routes. */
  server: TestAppServer;
  /** Opens tabs of your app, optionally verified as a user already. */
  tabs: Tabs;
  /** Stops, restarts and updates the worker; tells which transport the tabs use. */
  worker: WorkerControl;
  /** Offline and online for pages and workers alike; a slow or cut route. */
  network: NetworkControl;
  /** One time for pages, workers, server and identity provider, moved forward at will. */
  clock: TimeMachine;
  /** What each tab dispatched. */
  events: TabEvents;
}

interface KitInternals {
  tabwarden: TabwardenKitOptions;
  twKit: {
    time: ShiftedClock;
    /** Every tab the `tabs` fixture opened; `pages()` lists those still open. */
    opened: Page[];
    pages: () => Page[];
    transportOf: (tab: Page) => Promise<string>;
  };
  twTimeMachine: TimeMachine;
}

// dist/test-bundles of this package: the worker bundles built with the test clock. Three folders
// up from here both in src/testing/playwright and in dist/testing/playwright.
const TEST_BUNDLES = fileURLToPath(new URL('../../../dist/test-bundles/', import.meta.url));
const DEFAULT_CLIENT = () =>
  (window as unknown as { embeddedservice_bootstrap?: { tabwarden?: unknown } }).embeddedservice_bootstrap
    ?.tabwarden;

/**
 * Playwright's `test`, extended with tabwarden's fixtures. Each test gets its own identity
 * provider, reference server, browser context (one profile: its tabs share one worker) and time.
 *
 * @example
 * ```ts
 * import { test, expect } from 'tabwarden/testing/playwright';
 *
 * test('logout in one tab clears every tab', async ({ tabs }) => {
 *   const [first, second] = await tabs.open(2, { as: 'alice' });
 *   await tabs.call(first, 'clearSession');
 *   await expect(second).toHaveDispatched('tabwarden:session-cleared', { detail: { reason: 'logout' } });
 * });
 * ```
 */
export const test = base.extend<TabwardenFixtures & KitInternals>({
  tabwarden: [{}, { option: true }],

  twKit: async ({ tabwarden }, use) => {
    const client = (tabwarden.appClient ?? DEFAULT_CLIENT).toString();
    const opened: Page[] = [];
    await use({
      time: new ShiftedClock(),
      opened,
      pages: () => opened.filter((page) => !page.isClosed()),
      transportOf: (tab) => tab.evaluate(`String((${client})()?.transport)`) as Promise<string>,
    });
  },

  identityProvider: async ({ twKit }, use) => {
    const provider = await startIdentityProvider({ clock: twKit.time });
    try {
      await use(provider);
    } finally {
      await provider.close();
    }
  },

  server: async ({ identityProvider, twKit, tabwarden }, use) => {
    if (!tabwarden.serverOptions?.bundlesDir && !existsSync(TEST_BUNDLES)) {
      throw new Error(
        `tabwarden/testing/playwright: ${TEST_BUNDLES} is missing; run npm run build:test-bundles`,
      );
    }
    const { server, close } = await startTestAppServer({
      identityProvider,
      clock: twKit.time,
      serverOptions: {
        bundlesDir: TEST_BUNDLES,
        ...(tabwarden.appDir === undefined ? {} : { staticDir: tabwarden.appDir }),
        ...tabwarden.serverOptions,
      },
    });
    try {
      await use(server);
    } finally {
      await close();
    }
  },

  twTimeMachine: async ({ twKit, context }, use) => {
    await use(new TimeMachine(twKit.time, context, twKit.pages, twKit.transportOf));
  },

  clock: async ({ twTimeMachine }, use) => {
    await twTimeMachine.install();
    await use(twTimeMachine);
  },

  tabs: async ({ context, server, identityProvider, tabwarden, twKit, twTimeMachine }, use) => {
    await collectEvents(context, { names: [...TABWARDEN_WINDOW_EVENTS, ...(tabwarden.recordEvents ?? [])] });
    const tabs = new Tabs({
      context,
      identityProvider,
      serverUrl: server.url,
      appUrl: tabwarden.appUrl ?? ((env) => `${env.serverUrl}/`),
      client: tabwarden.appClient ?? DEFAULT_CLIENT,
      opened: async (tab) => {
        twKit.opened.push(tab);
        if (twTimeMachine.workersBehind) await twTimeMachine.syncWorkers();
      },
    });
    await use(tabs);
  },

  worker: async ({ browser, server, twKit }, use) => {
    await use(
      new WorkerControl({
        browser,
        door: server.door,
        tabs: () => twKit.pages(),
        transportOf: twKit.transportOf,
      }),
    );
  },

  network: async ({ context, browser, server, twKit }, use) => {
    await use(new NetworkControl({ context, browser, server, tabs: () => twKit.pages() }));
  },

  events: async ({ tabs }, use) => {
    void tabs; // the recorder is installed with the tabs
    await use({ of: eventsOf, wait: waitForEvent });
  },
});
