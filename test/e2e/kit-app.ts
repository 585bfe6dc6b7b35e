// tabwarden's own e2e suite through its test kit (tabwarden/testing/playwright): the kit's
// fixtures pointed at the fixture app (fixtures/app/seed.html, the script-tag build whose client
// is the kit's default), for the transport of the Playwright project.
import { test as kit } from '../../src/testing/playwright/index.ts';
import { APP_EVENTS } from './app-driver.ts';
import { appDir, type Transport } from './harness.ts';
import { REAL_PERFORMANCE } from './workers.ts';

export { expect } from '../../src/testing/playwright/index.ts';

/** Options a spec sets with `test.use`. */
export interface KitAppOptions {
  /** The transport under test; set per project in playwright.config.ts. */
  transport: Transport;
  /** More query parameters of the fixture app (graceMs, callTimeoutMs...; see fixtures/app/common.js). */
  appQuery: Record<string, string | number>;
}

export const test = kit.extend<KitAppOptions>({
  // Keeps the page's real `performance` where isInPageLeader (workers.ts) finds it: the kit's
  // clock installs Playwright's, whose resource timing is empty. Added first, so it runs first.
  context: async ({ context }, use) => {
    await context.addInitScript(
      (key) => Object.defineProperty(window, key, { value: performance, enumerable: false }),
      REAL_PERFORMANCE,
    );
    await use(context);
  },
  transport: ['service-worker', { option: true }],
  appQuery: [{}, { option: true }],
  tabwarden: async ({ transport, appQuery }, use) => {
    await use({
      appDir,
      appUrl: ({ serverUrl, identityProvider: { issuer, jwksUrl, audience } }) => {
        const query = { transport, issuer, jwksUrl, audience, ...appQuery };
        return `${serverUrl}/seed.html?${new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]))}`;
      },
      recordEvents: [...APP_EVENTS],
    });
  },
});
