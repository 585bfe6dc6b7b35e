// Chromium through Playwright (DevTools protocol): Debian's /usr/bin/chromium, as the e2e suite.
import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../../../src/testing/index.ts';
import { listSharedWorkers, takeSharedWorkersOffline } from '../../e2e/workers.ts';
import type { EngineDriver, InPage, Tab, TabGroup } from '../driver.ts';

class PlaywrightTab implements Tab {
  constructor(readonly page: Page) {}
  evaluate<A, R>(fn: InPage<A, R>, arg: A): Promise<R> {
    // The libraries type arguments through their handle types; ours are plain data.
    return this.page.evaluate(fn as never, arg) as Promise<R>;
  }
  async reload(): Promise<void> {
    await this.page.reload();
  }
  close(): Promise<void> {
    return this.page.close({ runBeforeUnload: false });
  }
}

class PlaywrightTabGroup implements TabGroup {
  /** Reconnects the SharedWorkers taken offline through the DevTools protocol. */
  reconnectSharedWorkers: (() => Promise<void>) | undefined;
  constructor(readonly context: BrowserContext) {}
  async open(url: string): Promise<Tab> {
    const page = await this.context.newPage();
    await page.goto(url);
    return new PlaywrightTab(page);
  }
  close(): Promise<void> {
    return this.context.close();
  }
}

/** Launches Chromium headless through playwright-core. */
export async function launchChromiumDriver(): Promise<EngineDriver> {
  const browser = await launchChromium();
  return {
    engine: 'chromium',
    drivenBy: 'Playwright over the DevTools protocol',
    version: browser.version(),
    offlineReachesWorkers: true,
    async tabs() {
      return new PlaywrightTabGroup(await browser.newContext({ serviceWorkers: 'allow' }));
    },
    async setOffline(group, origin, offline) {
      const { context } = group as PlaywrightTabGroup;
      const tabs = group as PlaywrightTabGroup;
      if (offline) {
        await context.setOffline(true);
        // Chromium's offline switch does not reach a SharedWorker's fetches (see e2e/workers.ts).
        if ((await listSharedWorkers(browser, origin)).length > 0)
          tabs.reconnectSharedWorkers = await takeSharedWorkersOffline(browser, origin);
      } else {
        await tabs.reconnectSharedWorkers?.();
        tabs.reconnectSharedWorkers = undefined;
        await context.setOffline(false);
      }
    },
    quit: () => browser.close(),
  };
}
