import type { CDPSession, Page } from 'playwright-core';

/** A service-worker version as Chromium's DevTools protocol reports it. */
export interface ServiceWorkerVersionState {
  versionId: string;
  scriptURL: string;
  /** `'stopped' | 'starting' | 'running' | 'stopping'`. */
  runningStatus: string;
  /** `'new' | 'installing' | 'installed' | 'activating' | 'activated' | 'redundant'`. */
  status: string;
}

/** What {@link stopServiceWorker} stopped, and how long it took. */
export interface StoppedServiceWorkers {
  versions: ServiceWorkerVersionState[];
  elapsedMs: number;
}

/** Options of the waits in this file. */
export interface ServiceWorkerWaitOptions {
  /** Give up after this long, with an error saying what was seen. Default 5000. */
  timeoutMs?: number;
}

/**
 * Stops every service worker of the page's browser context the way the browser does when a
 * worker has been idle: through the DevTools protocol (`ServiceWorker.stopAllWorkers`). Resolves
 * once Chromium reports every known worker version `stopped` (the worker's memory is gone; the
 * next fetch or message to it starts a fresh instance). Rejects with a clear error if the origin
 * has no service worker registered, if the browser is not Chromium, or on timeout.
 *
 * A version that is stopped and at once woken again (say, by a page retrying a call) counts as
 * stopped: what matters is that the old instance is gone.
 *
 * @example
 * ```ts
 * await waitForServiceWorkerControl(tab);
 * await stopServiceWorker(tab);
 * // the next call must wake the worker, which restores the session from IndexedDB (R10)
 * await expect(tab.getByRole('button', { name: 'Send' })).toBeEnabled();
 * ```
 */
export async function stopServiceWorker(
  page: Page,
  options: ServiceWorkerWaitOptions = {},
): Promise<StoppedServiceWorkers> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const started = performance.now();
  const registrations = await page.evaluate(async () =>
    'serviceWorker' in navigator ? (await navigator.serviceWorker.getRegistrations()).length : -1,
  );
  if (registrations < 1) {
    throw new Error(
      `stopServiceWorker: ${page.url()} has ${registrations < 0 ? 'no service worker support (insecure context?)' : 'no service worker registered'}`,
    );
  }

  let session: CDPSession;
  try {
    session = await page.context().newCDPSession(page);
  } catch (error) {
    throw new Error('stopServiceWorker needs Chromium: it uses the DevTools protocol', { cause: error });
  }
  const latest = new Map<string, ServiceWorkerVersionState>();
  const stoppedOnce = new Set<string>();
  let settle: (() => void) | undefined;
  const allStopped = () => latest.size > 0 && [...latest.keys()].every((id) => stoppedOnce.has(id));
  session.on('ServiceWorker.workerVersionUpdated', ({ versions }) => {
    for (const { versionId, scriptURL, runningStatus, status } of versions) {
      latest.set(versionId, { versionId, scriptURL, runningStatus, status });
      if (runningStatus === 'stopped') stoppedOnce.add(versionId);
    }
    if (allStopped()) settle?.();
  });

  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const stopped = new Promise<void>((resolve, reject) => {
      settle = resolve;
      timer = setTimeout(() => {
        const seen = [...latest.values()].map((v) => `${v.scriptURL} ${v.runningStatus}`).join(', ');
        reject(
          new Error(
            `stopServiceWorker: not every service worker stopped within ${timeoutMs} ms (seen: ${seen || 'no versions reported'})`,
          ),
        );
      }, timeoutMs);
    });
    await session.send('ServiceWorker.enable');
    await session.send('ServiceWorker.stopAllWorkers');
    if (allStopped()) settle?.();
    await stopped;
    return { versions: [...latest.values()], elapsedMs: performance.now() - started };
  } finally {
    clearTimeout(timer);
    await session.send('ServiceWorker.disable').catch(() => {});
    await session.detach().catch(() => {});
  }
}

/**
 * Waits until a service worker controls the page (`navigator.serviceWorker.controller` is set).
 * A page that registers a worker for the first time is controlled only once the worker calls
 * `clients.claim()` (or after a reload). Shift+Reload loads a page no worker controls, until
 * tabwarden's page stub asks the active worker to claim it.
 *
 * @example
 * ```ts
 * const [tab] = await openTabs(context, 1, server.url);
 * await waitForServiceWorkerControl(tab);
 * ```
 */
export async function waitForServiceWorkerControl(
  page: Page,
  options: ServiceWorkerWaitOptions = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 5000;
  try {
    await page.waitForFunction(() => navigator.serviceWorker?.controller != null, undefined, {
      timeout: timeoutMs,
      polling: 50,
    });
  } catch (error) {
    throw new Error(
      `waitForServiceWorkerControl: no service worker controls ${page.url()} after ${timeoutMs} ms`,
      { cause: error },
    );
  }
}
