// The `window.bench` objects the fixture pages (bench/fixtures/pages) expose, and one typed way
// to call them from Node. Keeping the timed code inside the pages means every figure is taken
// on the browser's own clock, not across the DevTools connection.
import type { Page } from 'playwright-core';
import type { Tab } from '../../test/engines/driver.ts';

/**
 * A bench page: a Playwright page (Chromium), or a tab of another engine through the contract
 * suite's driver (test/engines/driver.ts: Firefox over WebDriver BiDi, WebKit over WebDriver).
 */
export type BenchTab = Page | Tab;

const isPlaywright = (tab: BenchTab): tab is Page => 'waitForFunction' in tab;

/** Runs `fn(arg)` in the tab, whichever library drives it. */
function evaluateIn<A, R>(tab: BenchTab, fn: (arg: A) => R, arg: A): Promise<Awaited<R>> {
  // The libraries type arguments through their handle types; these are plain data.
  return (isPlaywright(tab) ? tab.evaluate(fn as never, arg) : tab.evaluate(fn, arg)) as Promise<Awaited<R>>;
}

/** tabwarden-page.js: the real page stub (and UI with `?ui`). */
export interface TabwardenPageApi {
  now(): number;
  broadcastBaseline(id: string): number;
  receivedAt(id: string): number | null;
  verified(): boolean;
  verify(token: string): Promise<number>;
  start(): Promise<string>;
  firstAfter(type: string, since: number): number | null;
  clear(): Promise<{ startedAt: number; resolvedAt: number }>;
  refresh(token: string): Promise<{ startedAt: number; resolvedAt: number }>;
  timeToButton(token: string): Promise<number>;
  timeSend(text: string): Promise<number>;
  sendMany(count: number, prefix: string): Promise<number[]>;
  queue(count: number, prefix: string): Promise<string[]>;
  clickAt(at: number): void;
  follow(): void;
  send(text: string): Promise<number>;
  whenEntry(seq: number, timeoutMs: number): Promise<{ at: number; createdAt: number }>;
}

/** naive-page.js: each tab exchanges for itself. (`now` and `clickAt` are the tabwarden page's too.) */
export interface NaivePageApi {
  now(): number;
  verify(token: string): boolean;
  clickAt(at: number): void;
  started(): number | null;
}

/** direct-page.js: messages posted straight to the server, no outbox (the outbox row's baseline). */
export interface DirectPageApi {
  setup(identityToken: string): Promise<void>;
  postMany(count: number, prefix: string): Promise<void>;
}

/** raw/echo-page.js: the raw service worker's page (answers, relays; with `?panel`, draws). */
export interface EchoPageApi {
  roundTrip(): Promise<number>;
  relay(id: string): Promise<{ startedAt: number; resolvedAt: number }>;
  relayedAt(id: string): number | null;
  whenRelayed(id: string, timeoutMs: number): Promise<number>;
  turn(i: number): Promise<number>;
}

type Method<Api> = { [K in keyof Api]: Api[K] extends (...args: never[]) => unknown ? K : never }[keyof Api];

/** A function that calls `window.bench` of a page. */
export type PageCaller<Api> = <M extends Method<Api>>(
  method: M,
  ...args: Api[M] extends (...a: infer A) => unknown ? A : never
) => Promise<Api[M] extends (...a: never[]) => infer R ? Awaited<R> : never>;

/** Calls `window.bench[method](...args)` in `page` and resolves its (awaited) result. */
export function pageCaller<Api>(page: BenchTab): PageCaller<Api> {
  return (method, ...args) =>
    evaluateIn(
      page,
      ({ method, args }: { method: string; args: unknown[] }) =>
        (window as unknown as { bench: Record<string, (...a: unknown[]) => unknown> }).bench[method]!(
          ...args,
        ),
      { method: String(method), args: args as unknown[] },
    ) as never;
}

/** Waits (bounded) until the page's `window.bench` exists, i.e. its setup finished. */
export async function waitForBench(page: BenchTab, timeoutMs = 15_000): Promise<void> {
  if (isPlaywright(page)) {
    await page.waitForFunction(() => 'bench' in window, undefined, { timeout: timeoutMs });
    return;
  }
  const found = await page.evaluate(async (timeoutMs) => {
    const until = Date.now() + timeoutMs;
    while (!('bench' in window) && Date.now() < until)
      await new Promise((resolve) => setTimeout(resolve, 20));
    return 'bench' in window;
  }, timeoutMs);
  if (!found) throw new Error(`waitForBench: no window.bench within ${timeoutMs} ms`);
}

/**
 * Waits (bounded) until `window.bench[method](...args)` returns a non-null value in `page`, and
 * resolves it: the driver's way to collect a time a tab recorded.
 */
export async function pollPage<T>(
  page: BenchTab,
  method: string,
  args: unknown[],
  timeoutMs = 10_000,
): Promise<T> {
  if (!isPlaywright(page)) {
    // Polled in the page itself: one round trip through WebDriver instead of one per poll.
    const found = await page.evaluate(
      async ({ method, args, timeoutMs }) => {
        const bench = (window as unknown as { bench: Record<string, (...a: unknown[]) => unknown> }).bench;
        const until = Date.now() + timeoutMs;
        for (;;) {
          const value = bench[method]!(...args);
          if (value !== null && value !== undefined) return { value };
          if (Date.now() > until) return null;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      },
      { method, args, timeoutMs },
    );
    if (!found) throw new Error(`pollPage: bench.${method} gave nothing within ${timeoutMs} ms`);
    return found.value as T;
  }
  const handle = await page.waitForFunction(
    ({ method, args }) =>
      (window as unknown as { bench: Record<string, (...a: unknown[]) => unknown> }).bench[method]!(
        ...args,
      ) ?? false,
    { method, args },
    { timeout: timeoutMs, polling: 5 },
  );
  return (await handle.jsonValue()) as T;
}
