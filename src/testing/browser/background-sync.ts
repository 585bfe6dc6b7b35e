import type { Page } from 'playwright-core';

/**
 * Fires a Background Sync `sync` event with `tag` at the service worker registered for
 * `origin`, as Chromium does when the network comes back (DevTools protocol
 * `ServiceWorker.dispatchSyncEvent`). `page` is any page of the browser context — it need not be
 * of that origin, so a test can fire it with every tab of the app closed. A stopped worker is
 * started for it. Resolves once the browser accepted the dispatch (not when the worker's
 * `waitUntil` settles: watch the effect instead). Rejects if the origin has no registration, or
 * the browser is not Chromium.
 *
 * @example
 * ```ts
 * await tab.close(); // no tab of the app is left
 * const blank = await context.newPage();
 * await fireBackgroundSync(blank, server.url, 'tabwarden-outbox');
 * await expect.poll(() => server.count('POST /v1/conversations/:id/messages')).toBe(1);
 * ```
 */
export async function fireBackgroundSync(
  page: Page,
  origin: string,
  tag: string,
  { lastChance = false }: { lastChance?: boolean } = {},
): Promise<void> {
  const wanted = new URL(origin).origin;
  const session = await page
    .context()
    .newCDPSession(page)
    .catch((error: unknown) => {
      throw new Error('fireBackgroundSync needs Chromium: it uses the DevTools protocol', { cause: error });
    });
  try {
    const registrations = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`fireBackgroundSync: no service worker registered for ${wanted}`)),
        5_000,
      );
      session.on('ServiceWorker.workerRegistrationUpdated', ({ registrations: updated }) => {
        const found = updated.find((r) => !r.isDeleted && new URL(r.scopeURL).origin === wanted);
        if (found) {
          clearTimeout(timer);
          resolve(found.registrationId);
        }
      });
    });
    // Enabling the domain reports every registration of the context.
    await session.send('ServiceWorker.enable');
    const registrationId = await registrations;
    await session.send('ServiceWorker.dispatchSyncEvent', {
      origin: wanted,
      registrationId,
      tag,
      lastChance,
    });
  } finally {
    await session.send('ServiceWorker.disable').catch(() => {});
    await session.detach().catch(() => {});
  }
}
