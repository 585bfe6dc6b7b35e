// The fault-injection suite's harness (faults.spec.ts, and service-worker-only cases to come): the app
// served through a fault proxy, and the tally each case records for `npm run soak`.
import type { Page } from '@playwright/test';
import { settled, AppDriver, type Outcome } from './app-driver.ts';
import { startFaultProxy, type FaultProxy } from './fault-proxy.ts';
import { expect, test as base } from './harness.ts';

export { expect };

export const test = base.extend<{ faults: FaultProxy }>({
  faults: async ({ testServer }, use) => {
    const proxy = await startFaultProxy(testServer.url);
    try {
      await use(proxy);
    } finally {
      await proxy.close();
    }
  },
  // The app is served through the proxy, so every request of pages and workers passes it.
  app: async ({ context, testServer, transport, faults }, use) => {
    await use(new AppDriver(context, { ...testServer, url: faults.url }, transport));
  },
});

// A call whose host died is answered within this, from the fault; it is far below any call's
// own limit (10 s, plus 30 s of grace for calls that may wait), so a call that only ended by
// its limit counts as hung.
export const RECOVERY_BOUND_MS = 5_000;
export const EXCHANGE = /^\/v1\/authorization$/;
export const MESSAGES = /^\/v1\/conversations\/[^/]+\/messages$/;
export const JWKS = /^\/demo\/idp\/jwks\.json$/;

/** What one case counts. */
export interface FaultTally {
  lost: number;
  duplicated: number;
  hung: number;
  /** From the fault to the answer of the call it hit. */
  recoveryMs: number;
}

/** Records the tally for the soak's table, then asserts nothing was lost, hung or duplicated. */
export function expectNoHarm(tally: FaultTally): void {
  test.info().annotations.push({ type: 'fault', description: JSON.stringify(tally) });
  expect({ lost: tally.lost, duplicated: tally.duplicated, hung: tally.hung }).toEqual({
    lost: 0,
    duplicated: 0,
    hung: 0,
  });
}

/** The outcome of the call started as `name`, or `undefined` if it did not settle within `ms`. */
export async function settledWithin<T>(tab: Page, name: string, ms: number): Promise<Outcome<T> | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  try {
    return await Promise.race([settled<T>(tab, name), late]);
  } finally {
    clearTimeout(timer);
  }
}
