// The small interface the cross-engine contract scenarios (scenarios.ts) are written against, so
// each scenario exists once and runs in Chromium, Firefox and WebKit. One adapter per automation
// library implements it (adapters/). Server-side facts (requests counted by the reference server)
// come from the test server itself, not from the browser.

/** The browser engines the contract runs in. */
export type EngineName = 'chromium' | 'firefox' | 'webkit';

/**
 * A function run inside a tab. It must be self-contained (it is sent as source): no closures, no
 * imports; its one argument and its result must be JSON-like data.
 */
export type InPage<A, R> = (arg: A) => R | Promise<R>;

/** One tab of the browser. */
export interface Tab {
  /** Runs `fn(arg)` in the tab's page and resolves with its (awaited) result. */
  evaluate<A, R>(fn: InPage<A, R>, arg: A): Promise<R>;
  /** Reloads the page and waits for its load event. */
  reload(): Promise<void>;
  /** Closes the tab (no beforeunload prompt). */
  close(): Promise<void>;
}

/** The tabs of one test: a profile's worth of browser state, closed after the test. */
export interface TabGroup {
  /** Opens a new tab at `url` and waits for its load event. */
  open(url: string): Promise<Tab>;
  /** Closes every tab this group opened. */
  close(): Promise<void>;
}

/** A launched browser, driven through one automation library. */
export interface EngineDriver {
  readonly engine: EngineName;
  /** The library and protocol that drive it, for the report (`'puppeteer-core over WebDriver BiDi'`). */
  readonly drivenBy: string;
  /** The browser's own version string. */
  readonly version: string;
  /** A fresh group of tabs. Tests isolate their state by origin too: each has a server of its own. */
  tabs(): Promise<TabGroup>;
  /**
   * Takes every tab and worker of the group offline, or back online, with the engine's own
   * network emulation (pages then see `navigator.onLine === false`). Absent where the automation
   * protocol cannot; scenarios then cut the network between browser and server instead.
   */
  setOffline?(group: TabGroup, origin: string, offline: boolean): Promise<void>;
  /**
   * Whether {@link setOffline} also cuts the workers' own fetches (service worker, SharedWorker).
   * Firefox's BiDi network conditions reach pages only (measured: a send through the service
   * worker still reached the server); scenarios then cut the network as well.
   */
  readonly offlineReachesWorkers?: boolean;
  /** Ends the browser and whatever the adapter started for it. */
  quit(): Promise<void>;
}
