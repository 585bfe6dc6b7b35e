import type { BrowserContext, Page } from '@playwright/test';
import type { ShiftedClock } from '../../core/shifted-clock.ts';

// Must match TEST_CLOCK_CHANNEL in src/sw/test-clock.ts (the worker's half).
export const TEST_CLOCK_CHANNEL = 'tabwarden:test-clock';
// How long a tab waits for a worker to say it jumped. A stopped service worker never answers:
// it reads the stored offset when it starts again.
const ANSWER_WAIT_MS = 1_500;

/**
 * The `clock` fixture: one time for the test's pages (Playwright's clock), its workers (the test
 * build's worker clock, src/sw/test-clock.ts), the reference server and the identity provider.
 * Moving it forward expires tokens and ends grace windows at once, in every one of them.
 */
export class TimeMachine {
  readonly #shift: ShiftedClock;
  readonly #context: BrowserContext;
  readonly #tabs: () => Page[];
  readonly #transportOf: (tab: Page) => Promise<string>;
  #workersBehind = false;

  /** @internal Made by the `clock` fixture. */
  constructor(
    shift: ShiftedClock,
    context: BrowserContext,
    tabs: () => Page[],
    transportOf: (tab: Page) => Promise<string>,
  ) {
    this.#shift = shift;
    this.#context = context;
    this.#tabs = tabs;
    this.#transportOf = transportOf;
  }

  /** @internal Installs Playwright's clock in every page of the context, before any opens. */
  async install(): Promise<void> {
    await this.#context.clock.install({ time: this.#shift.now() });
  }

  /** The test's time, in ms since the epoch: what the pages, workers and server see. */
  now(): number {
    return this.#shift.now();
  }

  /**
   * Moves time forward by `ms` everywhere at once, as a laptop lid closed for that long: every
   * timer due by then fires (a grace window ends, a token's refresh comes due), tokens expire.
   * Resolves once the workers and every page have jumped.
   *
   * @example
   * ```ts
   * await clock.fastForward('10:01'); // past a 10-minute token
   * await clock.fastForward(30_000);  // past a 30 s grace window
   * ```
   */
  async fastForward(ms: number | string): Promise<void> {
    const delta = typeof ms === 'number' ? ms : parseTicks(ms);
    if (!(delta >= 0)) throw new RangeError(`clock.fastForward: ${String(ms)} is not a time ahead`);
    // Playwright's clock stops counting real time while it fast-forwards, so pages fall behind
    // by as long as that takes: their wall time is set to the test's before and after the jump
    // (their timers stay as they are).
    await this.#context.clock.setSystemTime(this.#shift.now());
    this.#shift.jumpTo(this.#shift.offsetMs + delta);
    // Pages first, so that what a worker does at the new time reaches pages already there.
    await this.#context.clock.fastForward(delta);
    await this.#context.clock.setSystemTime(this.#shift.now());
    await this.syncWorkers();
  }

  /**
   * @internal Tells the workers the current offset through a tab (kept in IndexedDB for a worker
   * that starts later, and broadcast to the running ones). A no-op until time has moved.
   */
  async syncWorkers(): Promise<void> {
    if (this.#shift.offsetMs === 0) return;
    const tab = this.#tabs()[0];
    if (!tab) {
      this.#workersBehind = true;
      return;
    }
    this.#workersBehind = false;
    // The in-page transport's engine lives in a page, on Playwright's clock: no worker to answer.
    const waitMs = (await this.#transportOf(tab)) === 'in-page' ? 0 : ANSWER_WAIT_MS;
    await tab.evaluate(tellWorkers, {
      channel: TEST_CLOCK_CHANNEL,
      offsetMs: this.#shift.offsetMs,
      waitMs,
      pages: false,
    });
  }

  /** @internal Whether a jump happened while no tab was open to tell the workers. */
  get workersBehind(): boolean {
    return this.#workersBehind;
  }
}

/**
 * @internal Runs in a tab (self-contained, so any driver can send it as source): stores the
 * offset, broadcasts it, and resolves whether a worker answered within `waitMs`. `pages: false`
 * when Playwright's clock moves the pages (the in-page transport's host then stays on it);
 * `pages: true` where nothing else does (test/engines), so the in-page host jumps too.
 */
export async function tellWorkers({
  channel: name,
  offsetMs,
  waitMs,
  pages,
}: {
  channel: string;
  offsetMs: number;
  waitMs: number;
  pages: boolean;
}): Promise<boolean> {
  await new Promise<void>((resolve) => {
    const request = indexedDB.open(name, 1);
    request.onupgradeneeded = () => request.result.createObjectStore('clock');
    request.onerror = () => resolve();
    request.onsuccess = () => {
      const db = request.result;
      const put = db.transaction('clock', 'readwrite');
      put.objectStore('clock').put(offsetMs, 'offsetMs');
      if (pages) put.objectStore('clock').put(offsetMs, 'pagesOffsetMs');
      put.oncomplete = put.onerror = () => {
        db.close();
        resolve();
      };
    };
  });
  const channel = new BroadcastChannel(name);
  const id = crypto.randomUUID();
  try {
    return await new Promise<boolean>((resolve) => {
      channel.onmessage = (event: MessageEvent<{ type?: string; id?: string }>) => {
        if (event.data?.type === 'jumped' && event.data.id === id) resolve(true);
      };
      channel.postMessage({ type: 'jump', offsetMs, id, pages });
      setTimeout(() => resolve(false), waitMs);
    });
  } finally {
    channel.close();
  }
}

// Playwright's own time strings: '30', '01:30', '1:00:00'.
function parseTicks(value: string): number {
  const parts = value.split(':').map(Number);
  if (parts.length > 3 || parts.some((part) => !Number.isFinite(part))) {
    throw new RangeError(`clock.fastForward: ${value} is not a number of ms, 'mm:ss' or 'hh:mm:ss'`);
  }
  return parts.reduce((total, part) => total * 60 + part, 0) * 1000;
}
