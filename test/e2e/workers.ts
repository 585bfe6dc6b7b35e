// The hosts of the shared session, driven from the tests: ending them the way each transport
// loses them (R10), taking a SharedWorker offline (R12), and finding the in-page leader.
import type { Browser, CDPSession, Page } from '@playwright/test';
import { stopServiceWorker } from '../../src/testing/index.ts';
import type { Transport } from './harness.ts';

/**
 * Whether `tab` is the in-page leader: only the leader imports the engine bundle
 * (`tabwarden-in-page-host.js`), so its resource timing names it.
 */
export function isInPageLeader(tab: Page): Promise<boolean> {
  return tab.evaluate(() =>
    performance
      .getEntriesByType('resource')
      .some((entry) => new URL(entry.name).pathname === '/bundles/tabwarden-in-page-host.js'),
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

type TargetInfo = { type: string; url: string; targetId: string };

async function sharedWorkerTargets(cdp: CDPSession, origin: string): Promise<string[]> {
  const { targetInfos } = (await cdp.send('Target.getTargets')) as { targetInfos: TargetInfo[] };
  return targetInfos
    .filter((target) => target.type === 'shared_worker' && target.url.startsWith(`${origin}/`))
    .map((target) => target.targetId);
}

/** The ids of the SharedWorkers of `origin` that Chromium runs now (DevTools protocol targets). */
export async function listSharedWorkers(browser: Browser, origin: string): Promise<string[]> {
  const cdp = await browser.newBrowserCDPSession();
  try {
    return await sharedWorkerTargets(cdp, origin);
  } finally {
    await cdp.detach().catch(() => undefined);
  }
}

/**
 * Terminates every SharedWorker of `origin` through the DevTools protocol, as a crash of its
 * process would, and waits until Chromium no longer lists it. Resolves with how many it ended.
 */
export async function terminateSharedWorkers(browser: Browser, origin: string): Promise<number> {
  const cdp = await browser.newBrowserCDPSession();
  try {
    const list = () => sharedWorkerTargets(cdp, origin);
    const targets = await list();
    for (const targetId of targets) await cdp.send('Target.closeTarget', { targetId });
    const started = Date.now();
    while ((await list()).some((id) => targets.includes(id))) {
      if (Date.now() - started > 5_000) throw new Error('terminateSharedWorkers: a SharedWorker did not end');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return targets.length;
  } finally {
    await cdp.detach().catch(() => undefined);
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

/**
 * Takes every SharedWorker of `origin` off the network through the DevTools protocol, and
 * resolves with a function that reconnects them. Needed because Chromium's context-wide offline
 * switch (`context.setOffline`, the kit's `goOffline`) reaches pages and service workers but not
 * a SharedWorker's own fetches (measured: they still reach the server). The worker stays attached
 * (an old-style, non-flat target session) until reconnected.
 */
export async function takeSharedWorkersOffline(
  browser: Browser,
  origin: string,
): Promise<() => Promise<void>> {
  const cdp = await browser.newBrowserCDPSession();
  let lastId = 0;
  const answers = new Map<number, () => void>();
  cdp.on('Target.receivedMessageFromTarget', ({ message }) => {
    const { id } = JSON.parse(message) as { id?: number };
    if (id !== undefined) answers.get(id)?.();
  });
  // Sends one command to a worker and waits for its answer.
  const command = async (sessionId: string, method: string, params: object) => {
    const id = ++lastId;
    const answered = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${method}: no answer from the SharedWorker`)), 5_000);
      answers.set(id, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    await cdp.send('Target.sendMessageToTarget', {
      sessionId,
      message: JSON.stringify({ id, method, params }),
    });
    await answered;
  };
  const conditions = (offline: boolean) => ({
    offline,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: -1,
  });

  const sessions: string[] = [];
  for (const targetId of await sharedWorkerTargets(cdp, origin)) {
    const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: false });
    sessions.push(sessionId);
    await command(sessionId, 'Network.enable', {});
    await command(sessionId, 'Network.emulateNetworkConditions', conditions(true));
  }
  if (sessions.length === 0) throw new Error(`takeSharedWorkersOffline: ${origin} has no SharedWorker`);
  return async () => {
    try {
      for (const sessionId of sessions) {
        await command(sessionId, 'Network.emulateNetworkConditions', conditions(false));
        await cdp.send('Target.detachFromTarget', { sessionId });
      }
    } finally {
      await cdp.detach().catch(() => undefined);
    }
  };
}
