// The hosts of the shared session, driven from the tests: ending them the way each transport
// loses them (R10), taking a SharedWorker offline (R12), and finding the in-page leader.
import type { Browser, Page } from '@playwright/test';
import { stopServiceWorker } from '../../src/testing/index.ts';
import { terminateSharedWorkers } from '../../src/testing/browser/shared-worker-control.ts';
import type { Transport } from './harness.ts';

// Moved to the test kit (its `worker` and `network` fixtures use them); re-exported for the specs.
export {
  listSharedWorkers,
  takeSharedWorkersOffline,
  terminateSharedWorkers,
} from '../../src/testing/browser/shared-worker-control.ts';

/** Where a page keeps its real `performance` when a fake clock replaces it (kit-app.ts). */
export const REAL_PERFORMANCE = '__tabwardenRealPerformance__';

/**
 * Whether `tab` is the in-page leader: only the leader imports the engine bundle
 * (`tabwarden-in-page-host.js`), so its resource timing names it.
 */
export function isInPageLeader(tab: Page): Promise<boolean> {
  return tab.evaluate(
    (key) =>
      ((window as unknown as Record<string, Performance | undefined>)[key] ?? performance)
        .getEntriesByType('resource')
        .some((entry) => new URL(entry.name).pathname === '/bundles/tabwarden-in-page-host.js'),
    REAL_PERFORMANCE,
  );
}

/**
 * The tab among `tabs` that leads the in-page transport. Waits (up to `timeoutMs`) while there is
 * none yet: after the leader's tab closed, the next in line takes over on its own time.
 */
export async function inPageLeader(tabs: readonly Page[], timeoutMs = 5_000): Promise<Page> {
  const started = Date.now();
  for (;;) {
    const leaders: Page[] = [];
    for (const tab of tabs) if (await isInPageLeader(tab)) leaders.push(tab);
    if (leaders.length === 1) return leaders[0]!;
    if (leaders.length > 1 || Date.now() - started > timeoutMs) {
      throw new Error(`expected one in-page leader among ${tabs.length} tabs, found ${leaders.length}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Makes the host of the shared session go away, the way it does on `transport`, and resolves
 * with the tabs still open:
 *
 * - service worker: the browser stops it (CDP `ServiceWorker.stopAllWorkers`, as when idle); the
 *   next message to it starts a fresh instance, which restores the session from IndexedDB.
 * - SharedWorker: a browser never stops one while a tab holds it, so the only restart it sees is
 *   its process ending (a crash): terminated through the DevTools protocol.
 * - in-page: the engine lives in the leader tab, so the leader tab closes; the next tab in line
 *   takes over.
 */
export async function restartHost(
  transport: Transport,
  tabs: readonly Page[],
  browser: Browser,
  origin: string,
): Promise<Page[]> {
  switch (transport) {
    case 'service-worker':
      await stopServiceWorker(tabs[0]!);
      return [...tabs];
    case 'shared-worker':
      if ((await terminateSharedWorkers(browser, origin)) === 0) throw new Error('no SharedWorker to end');
      return [...tabs];
    case 'in-page': {
      const leader = await inPageLeader(tabs);
      await leader.close({ runBeforeUnload: false });
      return tabs.filter((tab) => tab !== leader);
    }
  }
}
