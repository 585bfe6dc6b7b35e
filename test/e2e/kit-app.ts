// tabwarden's own e2e suite through its test kit (tabwarden/testing/playwright): the kit's
// fixtures pointed at the fixture app (fixtures/app/seed.html, the script-tag build whose client
// is the kit's default), for the transport of the Playwright project.
import { test as kit } from '../../src/testing/playwright/index.ts';
import { APP_EVENTS } from './app-driver.ts';
import { appDir, type Transport } from './harness.ts';

export { expect } from '../../src/testing/playwright/index.ts';

/** Options a spec sets with `test.use`. */
export interface KitAppOptions {
  /** The transport under test; set per project in playwright.config.ts. */
  transport: Transport;
  /** More query parameters of the fixture app (graceMs, callTimeoutMs...; see fixtures/app/common.js). */
  appQuery: Record<string, string | number>;
}

export const test = kit.extend<KitAppOptions>({
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
