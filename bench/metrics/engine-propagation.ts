// The propagation rows (propagation.ts) in Firefox ESR and WebKitGTK, each against its own
// engine's BroadcastChannel baseline and raw service-worker relay: the same pages and server as
// in Chromium, driven through the contract suite's adapters (test/engines/adapters).
import { fileURLToPath } from 'node:url';
import { startTestServer } from '../../src/testing/index.ts';
import { launchFirefoxDriver } from '../../test/engines/adapters/firefox.ts';
import { launchWebKitDriver } from '../../test/engines/adapters/webkit.ts';
import type { EngineDriver, Tab } from '../../test/engines/driver.ts';
import { waitForBench } from '../lib/page-api.ts';
import type { MetricResult } from '../lib/row.ts';
import { ENGINE_SAMPLES, measurePropagationIn } from './propagation.ts';

const PAGES_DIR = fileURLToPath(new URL('../fixtures/pages', import.meta.url));
const BUNDLES_DIR = fileURLToPath(new URL('../../dist/bundles', import.meta.url));
const TABS = 10;

const LAUNCH = { firefox: launchFirefoxDriver, webkit: launchWebKitDriver } as const;

/** Opens `count` tabs of `url`: the first registers the worker, the rest load once it controls. */
async function openTabs(open: (url: string) => Promise<Tab>, url: string, count: number): Promise<Tab[]> {
  const first = await open(url);
  await waitForBench(first);
  const tabs = [first];
  for (let i = 1; i < count; i++) tabs.push(await open(url));
  for (const tab of tabs) await waitForBench(tab);
  return tabs;
}

export async function measureEnginePropagation(engine: keyof typeof LAUNCH): Promise<MetricResult> {
  // One server per profile: tabwarden's tabs and the raw tabs on origins of their own.
  const server = await startTestServer({ staticDir: PAGES_DIR, bundlesDir: BUNDLES_DIR });
  const rawServer = await startTestServer({ staticDir: PAGES_DIR, bundlesDir: BUNDLES_DIR });
  let driver: EngineDriver | undefined;
  try {
    driver = await LAUNCH[engine]();
    const group = await driver.tabs();
    const open = (url: string) => group.open(url);
    const tabs = await openTabs(
      open,
      `${server.url}/tabwarden.html?issuer=${encodeURIComponent(server.issuer)}`,
      TABS,
    );
    const transports = await Promise.all(
      tabs.map((tab) =>
        tab.evaluate(
          () => (window as unknown as { bench: { transport: string } }).bench.transport,
          undefined,
        ),
      ),
    );
    if (transports.some((transport) => transport !== 'service-worker')) {
      throw new Error(
        `${engine}: expected every tab on the service-worker transport, got ${transports.join(', ')}`,
      );
    }
    const rawTabs = await openTabs(open, `${rawServer.url}/raw/echo.html`, TABS);
    const mint = (expiresInSeconds: number) =>
      server.mintIdentityToken({ sub: 'bench-user', expiresInSeconds });
    const result = await measurePropagationIn(tabs, rawTabs, mint, driver.version, ENGINE_SAMPLES[engine]);
    await group.close();
    return result;
  } finally {
    await driver?.quit();
    await server.close();
    await rawServer.close();
  }
}
