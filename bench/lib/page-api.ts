// The `window.bench` objects the fixture pages (bench/fixtures/pages) expose, and one typed way
// to call them from Node. Keeping the timed code inside the pages means every figure is taken
// on the browser's own clock, not across the DevTools connection.
import type { Page } from 'playwright-core';

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
  clickAt(at: number): void;
}

/** naive-page.js: each tab exchanges for itself. (`now` and `clickAt` are the tabwarden page's too.) */
export interface NaivePageApi {
  now(): number;
  verify(token: string): boolean;
  clickAt(at: number): void;
  started(): number | null;
}

/** raw/echo-page.js: the raw service worker's page (answers, relays). */
export interface EchoPageApi {
  roundTrip(): Promise<number>;
  relay(id: string): Promise<{ startedAt: number; resolvedAt: number }>;
  relayedAt(id: string): number | null;
}

type Method<Api> = { [K in keyof Api]: Api[K] extends (...args: never[]) => unknown ? K : never }[keyof Api];

/** A function that calls `window.bench` of a page. */
export type PageCaller<Api> = <M extends Method<Api>>(
  method: M,
  ...args: Api[M] extends (...a: infer A) => unknown ? A : never
) => Promise<Api[M] extends (...a: never[]) => infer R ? Awaited<R> : never>;

/** Calls `window.bench[method](...args)` in `page` and resolves its (awaited) result. */
export function pageCaller<Api>(page: Page): PageCaller<Api> {
  return (method, ...args) =>
    page.evaluate(
      ({ method, args }) =>
        (window as unknown as { bench: Record<string, (...a: unknown[]) => unknown> }).bench[method]!(
          ...args,
        ),
      { method: String(method), args: args as unknown[] },
    ) as never;
}

/** Waits (bounded) until the page's `window.bench` exists, i.e. its setup finished. */
export async function waitForBench(page: Page, timeoutMs = 15_000): Promise<void> {
  await page.waitForFunction(() => 'bench' in window, undefined, { timeout: timeoutMs });
}

/**
 * Waits (bounded) until `window.bench[method](...args)` returns a non-null value in `page`, and
 * resolves it: the driver's way to collect a time a tab recorded.
 */
export async function pollPage<T>(
  page: Page,
  method: string,
  args: unknown[],
  timeoutMs = 10_000,
): Promise<T> {
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
