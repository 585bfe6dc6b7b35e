// The fixture app (test/e2e/fixtures/app) driven through the engine-neutral Tab interface: the
// same calls as test/e2e/app-driver.ts (window.app answers plain data, `{ ok, value }` or
// `{ ok: false, code, message }`), the same in-page event record (fixtures/app/recorder.js), the
// same reference server.
import { expect } from 'vitest';
import type { ShiftedClock } from '../../src/core/shifted-clock.ts';
import type { RecordedEvent, TestServer } from '../../src/testing/index.ts';
import { TEST_CLOCK_CHANNEL, tellWorkers } from '../../src/testing/playwright/time-machine.ts';
import type { AppKind, AppState, DatabaseDump, Outcome } from '../e2e/app-driver.ts';
import type { Transport } from '../e2e/harness.ts';
import type { Tab, TabGroup } from './driver.ts';

export type {
  AppState,
  ConversationEntry,
  DatabaseDump,
  IdentityClaims,
  Outcome,
} from '../e2e/app-driver.ts';

const RECORDER_KEY = '__tabwardenRecordedEvents__';

export interface OpenOptions {
  /** Default `'seed'` (the facade, whose client is also the module API). */
  kind?: AppKind;
  query?: Record<string, string | number | boolean>;
  /** Open all at once (no wait between tabs). Default: each ready before the next opens. */
  together?: boolean;
  /** Do not wait for the client to be ready. */
  noWait?: boolean;
}

/** The fixture app of one test: its tabs, the server's origin it is loaded from, the transport. */
export class EngineApp {
  constructor(
    readonly group: TabGroup,
    readonly server: TestServer,
    readonly transport: Transport,
    /** Where the browser reaches the server: its own URL, or a cuttable link in front of it. */
    readonly origin: string = server.url,
    /** The server's clock, when the scenario asked for one (test bundles: the workers' too). */
    readonly clock?: ShiftedClock,
  ) {}

  /**
   * Moves time forward by `ms` for the server, its identity provider and the host of the session
   * (the worker, or the in-page leader), told through `tab` as the Playwright kit's `clock` tells
   * them (src/testing/playwright/time-machine.ts). The pages' own clocks stay: no engine here
   * has Playwright's `page.clock`, and the page stub needs none for what the scenarios check.
   */
  async fastForward(tab: Tab, ms: number): Promise<void> {
    if (!this.clock) throw new Error('fastForward: the scenario has no clock (set `clock: true`)');
    this.clock.jumpTo(this.clock.offsetMs + ms);
    const answered = await tab.evaluate(tellWorkers, {
      channel: TEST_CLOCK_CHANNEL,
      offsetMs: this.clock.offsetMs,
      waitMs: 5_000,
      pages: true,
    });
    if (!answered) throw new Error('fastForward: no host of the session answered the jump');
  }

  url(kind: AppKind = 'seed', query: OpenOptions['query'] = {}): string {
    const search = new URLSearchParams({ transport: this.transport });
    for (const [name, value] of Object.entries(query)) search.set(name, String(value));
    return `${this.origin}/${kind}.html?${search}`;
  }

  async open(count: number, options: OpenOptions = {}): Promise<Tab[]> {
    const url = this.url(options.kind, options.query);
    const tabs: Tab[] = [];
    if (options.together) {
      tabs.push(...(await Promise.all(Array.from({ length: count }, () => this.group.open(url)))));
      if (!options.noWait) for (const tab of tabs) await whenReady(tab);
      return tabs;
    }
    for (let i = 0; i < count; i++) {
      const tab = await this.group.open(url);
      if (!options.noWait) await whenReady(tab);
      tabs.push(tab);
    }
    return tabs;
  }

  mint(sub: string, expiresInSeconds = 600): Promise<string> {
    return this.server.mintIdentityToken({ sub, expiresInSeconds });
  }
}

/** The events `name` (all if absent) the tab dispatched since it loaded. */
export function eventsOf<Detail = unknown>(tab: Tab, name?: string): Promise<RecordedEvent<Detail>[]> {
  return tab.evaluate(
    ({ key, name }) => {
      const events = (window as unknown as Record<string, RecordedEvent[] | undefined>)[key];
      if (!events) throw new Error('no event recorder in the page (fixtures/app/recorder.js)');
      return name === null ? events : events.filter((event) => event.name === name);
    },
    { key: RECORDER_KEY, name: name ?? null },
  ) as Promise<RecordedEvent<Detail>[]>;
}

/**
 * Waits in the page, on the event itself, until the tab has dispatched `name` `count` times since
 * it loaded; rejects after `timeoutMs` naming the events it did see.
 */
export async function waitForEvent<Detail = unknown>(
  tab: Tab,
  name: string,
  { count = 1, timeoutMs = 10_000 }: { count?: number; timeoutMs?: number } = {},
): Promise<RecordedEvent<Detail>> {
  const outcome = await tab.evaluate(
    ({ key, name, count, timeoutMs }) =>
      new Promise<{ event?: RecordedEvent; seen: string[] }>((resolve) => {
        const events = (window as unknown as Record<string, RecordedEvent[]>)[key] ?? [];
        const found = () => events.filter((event) => event.name === name)[count - 1];
        const finish = () => {
          clearTimeout(timer);
          window.removeEventListener(name, onEvent);
          resolve({ event: found(), seen: events.map((event) => event.name) });
        };
        // The recorder listens in the capture phase, so it has recorded the event by now.
        const onEvent = () => {
          if (found()) finish();
        };
        const timer = setTimeout(finish, timeoutMs);
        window.addEventListener(name, onEvent);
        if (found()) finish();
      }),
    { key: RECORDER_KEY, name, count, timeoutMs },
  );
  if (!outcome.event) {
    throw new Error(
      `waitForEvent: no ${name}${count > 1 ? ` ×${count}` : ''} within ${timeoutMs} ms (seen: ${outcome.seen.join(', ') || 'none'})`,
    );
  }
  return outcome.event as RecordedEvent<Detail>;
}

/** Waits until the tab's client exists and its `ready` went out. */
export async function whenReady(tab: Tab): Promise<void> {
  const created = await tab.evaluate(() => window.app.created ?? window.app.init?.(), undefined);
  expect(created, JSON.stringify(created)).toMatchObject({ ok: true });
  await waitForEvent(tab, 'app:ready');
}

export async function reload(tab: Tab): Promise<void> {
  await tab.reload();
  await whenReady(tab);
}

/** Calls `tw[method](...args)` in the tab. */
export function call<T = unknown>(tab: Tab, method: string, ...args: unknown[]): Promise<Outcome<T>> {
  return tab.evaluate(({ method, args }) => window.app.call(method, ...args), { method, args }) as Promise<
    Outcome<T>
  >;
}

/** Calls `tw[method](...args)` and returns its value; throws with the code otherwise. */
export async function value<T = unknown>(tab: Tab, method: string, ...args: unknown[]): Promise<T> {
  const outcome = await call<T>(tab, method, ...args);
  if (!outcome.ok) throw new Error(`${method} failed: ${outcome.code} ${outcome.message}`);
  return outcome.value;
}

/** Starts `tw[method](...args)` in the tab and returns at once; see {@link settled}. */
export function start(tab: Tab, name: string, method: string, ...args: unknown[]): Promise<void> {
  return tab.evaluate(({ name, method, args }) => window.app.start(name, method, ...args), {
    name,
    method,
    args,
  });
}

export function isSettled(tab: Tab, name: string): Promise<boolean> {
  return tab.evaluate((name) => window.app.isSettled(name), name);
}

export function settled<T = unknown>(tab: Tab, name: string): Promise<Outcome<T>> {
  return tab.evaluate((name) => window.app.settled(name), name) as Promise<Outcome<T>>;
}

/** Presents a token through the module API and returns its claims. */
export function signIn(tab: Tab, identityToken: string): Promise<{ sub: string; iss: string; exp: number }> {
  return value(tab, 'setIdentityToken', identityToken);
}

/** The seed facade's synchronous setIdentityToken. */
export function facadeSetIdentityToken(
  tab: Tab,
  identityToken: string,
  identityTokenType = 'JWT',
): Promise<boolean> {
  return tab.evaluate(
    ({ identityToken, identityTokenType }) => window.app.setIdentityToken!(identityToken, identityTokenType),
    {
      identityToken,
      identityTokenType,
    },
  );
}

/** The seed facade's clearSession, its outcome as data. */
export function facadeClearSession(tab: Tab, shouldEndSession = false): Promise<Outcome<undefined>> {
  return tab.evaluate((end) => window.app.clearSession!(end), shouldEndSession);
}

export async function stateOf(tab: Tab): Promise<AppState> {
  const state = await tab.evaluate(() => window.app.state() ?? null, undefined);
  if (!state) throw new Error('no client in the tab');
  return state;
}

export function readDatabase(tab: Tab): Promise<DatabaseDump | null> {
  return tab.evaluate(() => window.app.readDatabase(), undefined);
}

/** R3/R13: no token, nor its signature, in anything the origin stores or the DOM. */
export async function expectNoTokenStored(tab: Tab, tokens: readonly string[]): Promise<void> {
  const snapshot = await tab.evaluate(() => window.app.storageSnapshot(), undefined);
  for (const token of tokens) {
    const [header, payload, signature] = token.split('.');
    expect(snapshot.includes(token), 'an identity token is stored').toBe(false);
    expect(snapshot.includes(signature!), 'an identity token’s signature is stored').toBe(false);
    expect(snapshot.includes(`${header}.${payload}`), 'an identity token is stored').toBe(false);
  }
}
