import type { BrowserContext } from 'playwright-core';

/**
 * Cuts every tab of `context` off the network, and its workers too: in Chromium a service
 * worker's own fetches fail while the context is offline. Pages see `navigator.onLine === false`
 * and an `offline` event.
 *
 * @example
 * ```ts
 * await goOffline(context);
 * await tab.getByRole('textbox').fill('sent while offline');
 * await tab.keyboard.press('Enter');
 * await goOnline(context); // the outbox delivers now
 * ```
 */
export async function goOffline(context: BrowserContext): Promise<void> {
  await context.setOffline(true);
}

/** Reconnects every tab and worker of `context` after {@link goOffline}. */
export async function goOnline(context: BrowserContext): Promise<void> {
  await context.setOffline(false);
}

/**
 * Runs `action` with `context` offline and reconnects afterwards, even if `action` throws.
 *
 * @example
 * ```ts
 * await whileOffline(context, async () => {
 *   await expect(tab.getByText('history still readable')).toBeVisible();
 * });
 * ```
 */
export async function whileOffline<T>(context: BrowserContext, action: () => Promise<T>): Promise<T> {
  await goOffline(context);
  try {
    return await action();
  } finally {
    await goOnline(context);
  }
}
