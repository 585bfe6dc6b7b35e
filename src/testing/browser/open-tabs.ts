import type { BrowserContext, Page } from 'playwright-core';

/** Options of {@link openTabs}. */
export interface OpenTabsOptions {
  /**
   * When navigation counts as done. Default `'load'`. Wait for your app's own signal afterwards
   * (for tabwarden, `waitForEvent(tab, 'onEmbeddedMessagingReady')`).
   */
  waitUntil?: 'load' | 'domcontentloaded' | 'networkidle' | 'commit';
  /**
   * Open the tabs one after another instead of all at once. Default false: they load
   * concurrently, as when a user restores a session with several tabs.
   */
  sequential?: boolean;
}

/**
 * Opens `count` pages in one browser context — several tabs of one browser profile, sharing its
 * service worker, SharedWorkers, storage and BroadcastChannels — each navigated to `url`.
 * Install recorders (`collectEvents(context)`) before calling it, so they see the first events.
 *
 * @example
 * ```ts
 * const context = await browser.newContext();
 * await collectEvents(context);
 * const tabs = await openTabs(context, 5, `${server.url}/`);
 * await Promise.all(tabs.map((tab) => waitForEvent(tab, 'onEmbeddedMessagingReady')));
 * ```
 */
export async function openTabs(
  context: BrowserContext,
  count: number,
  url: string,
  options: OpenTabsOptions = {},
): Promise<Page[]> {
  if (!Number.isInteger(count) || count < 1)
    throw new RangeError(`openTabs: count must be a whole number ≥ 1, got ${count}`);
  const waitUntil = options.waitUntil ?? 'load';
  const open = async () => {
    const page = await context.newPage();
    await page.goto(url, { waitUntil });
    return page;
  };
  if (!options.sequential) return Promise.all(Array.from({ length: count }, open));
  const pages: Page[] = [];
  for (let i = 0; i < count; i++) pages.push(await open());
  return pages;
}
