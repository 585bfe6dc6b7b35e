// Firefox ESR through puppeteer-core over WebDriver BiDi: Debian's /usr/bin/firefox-esr, no
// driver binary, nothing downloaded.
import { existsSync } from 'node:fs';
import puppeteer, { type Browser, type BrowserContext, type Page } from 'puppeteer-core';
import type { EngineDriver, InPage, Tab, TabGroup } from '../driver.ts';

/** Where Debian installs Firefox ESR (`apt-get install firefox-esr`). */
export const FIREFOX_ESR_PATH = '/usr/bin/firefox-esr';

class PuppeteerTab implements Tab {
  constructor(readonly page: Page) {}
  evaluate<A, R>(fn: InPage<A, R>, arg: A): Promise<R> {
    // Sent as source with a no-op `__name`: code compiled with keepNames (tsx, esbuild) calls it,
    // and the page has none.
    return this.page.evaluate(
      (source: string, arg: unknown) =>
        new Function('__name', `return (${source})`)((f: unknown) => f)(arg) as R,
      fn.toString(),
      arg as unknown,
    ) as Promise<R>;
  }
  async reload(): Promise<void> {
    await this.page.reload();
  }
  close(): Promise<void> {
    return this.page.close({ runBeforeUnload: false });
  }
}

class PuppeteerTabGroup implements TabGroup {
  constructor(readonly context: BrowserContext) {}
  async open(url: string): Promise<Tab> {
    const page = await this.context.newPage();
    await page.goto(url);
    return new PuppeteerTab(page);
  }
  close(): Promise<void> {
    return this.context.close();
  }
}

/** Launches Firefox ESR headless through puppeteer-core. */
export async function launchFirefoxDriver(): Promise<EngineDriver> {
  if (!existsSync(FIREFOX_ESR_PATH))
    throw new Error(`${FIREFOX_ESR_PATH} is missing: apt-get install firefox-esr`);
  const browser: Browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX_ESR_PATH,
    headless: true,
  });
  return {
    engine: 'firefox',
    drivenBy: 'puppeteer-core over WebDriver BiDi',
    version: await browser.version(),
    offlineReachesWorkers: false,
    async tabs() {
      return new PuppeteerTabGroup(await browser.createBrowserContext());
    },
    // WebDriver BiDi network conditions, per tab (puppeteer's setOfflineMode): pages only.
    async setOffline(group, _origin, offline) {
      for (const page of await (group as PuppeteerTabGroup).context.pages())
        await page.setOfflineMode(offline);
    },
    quit: () => browser.close(),
  };
}
