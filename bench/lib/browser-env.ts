// What every browser metric runs against: the reference server on 127.0.0.1 serving the real
// bundles (dist/bundles, as `npm start` does) and the bench's fixture pages, and one headless
// Debian Chromium. Each metric opens its own browser contexts (own service worker, own
// IndexedDB) and closes them, so metrics do not disturb each other.
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, openTabs, startTestServer, type TestServer } from '../../src/testing/index.ts';
import { pageCaller, waitForBench, type EchoPageApi, type TabwardenPageApi } from './page-api.ts';

const PAGES_DIR = fileURLToPath(new URL('../fixtures/pages', import.meta.url));
const BUNDLES_DIR = fileURLToPath(new URL('../../dist/bundles', import.meta.url));

export interface BrowserEnv {
  browser: Browser;
  server: TestServer;
  /** A fixture page's URL; tabwarden pages get the server's issuer in the query. */
  url(path: string, query?: Record<string, string>): string;
  /** Opens `count` tabs of the tabwarden page in `context`, each linked to its worker. */
  openTabwardenTabs(context: BrowserContext, count: number, options?: { ui?: boolean }): Promise<Page[]>;
  /** Opens `count` tabs of the raw service-worker page in `context` (`panel`: each shows the chat panel). */
  openRawTabs(context: BrowserContext, count: number, options?: { panel?: boolean }): Promise<Page[]>;
  mint(expiresInSeconds?: number): Promise<string>;
  close(): Promise<void>;
}

export async function startBrowserEnv(): Promise<BrowserEnv> {
  // Playwright otherwise inspects every fetch a service worker makes (DevTools Network domain):
  // extra work per request, and records the worker's heap keeps. The bench routes nothing.
  process.env.PLAYWRIGHT_DISABLE_SERVICE_WORKER_NETWORK = '1';
  const server = await startTestServer({ staticDir: PAGES_DIR, bundlesDir: BUNDLES_DIR });
  const browser = await launchChromium().catch(async (error: unknown) => {
    await server.close();
    throw error;
  });
  const url = (path: string, query: Record<string, string> = {}) =>
    `${server.url}/${path}?${new URLSearchParams(query)}`;
  return {
    browser,
    server,
    url,
    async openTabwardenTabs(context, count, options = {}) {
      const query: Record<string, string> = { issuer: server.issuer, ...(options.ui ? { ui: '1' } : {}) };
      // The first tab registers the service worker; the others load once it controls pages
      // (a tab still loading while the worker claims clients asks it to claim that tab later).
      const [first] = await openTabs(context, 1, url('tabwarden.html', query));
      await waitForBench(first!);
      const rest = count > 1 ? await openTabs(context, count - 1, url('tabwarden.html', query)) : [];
      const tabs = [first!, ...rest];
      for (const tab of tabs) tab.on('pageerror', (error) => console.error(`[page] ${error.message}`));
      await Promise.all(tabs.map((tab) => waitForBench(tab)));
      const transports = await Promise.all(
        tabs.map((tab) =>
          tab.evaluate(() => (window as unknown as { bench: { transport: string } }).bench.transport),
        ),
      );
      // The service worker is R11's first choice and what these figures describe.
      if (transports.some((transport) => transport !== 'service-worker')) {
        throw new Error(`expected every tab on the service-worker transport, got ${transports.join(', ')}`);
      }
      return tabs;
    },
    async openRawTabs(context, count, options = {}) {
      const page = url('raw/echo.html', options.panel ? { panel: '1' } : {});
      const [first] = await openTabs(context, 1, page);
      await waitForBench(first!);
      const rest = count > 1 ? await openTabs(context, count - 1, page) : [];
      await Promise.all(rest.map((tab) => waitForBench(tab)));
      return [first!, ...rest];
    },
    mint: (expiresInSeconds = 3600) => server.mintIdentityToken({ sub: 'bench-user', expiresInSeconds }),
    async close() {
      await browser.close();
      await server.close();
    },
  };
}

/** `pageCaller` for the tabwarden page. */
export const tabwardenPage = pageCaller<TabwardenPageApi>;

/** `pageCaller` for the raw service-worker page. */
export const echoPage = pageCaller<EchoPageApi>;

/** Lets the browser settle between phases (bounded). */
export const pause = (msToWait: number) => new Promise((resolve) => setTimeout(resolve, msToWait));
