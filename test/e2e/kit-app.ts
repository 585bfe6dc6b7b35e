// tabwarden's own e2e suite through its test kit (tabwarden/testing/playwright): the kit's
// fixtures pointed at the fixture app (fixtures/app/seed.html, the script-tag build whose client
// is the kit's default), for the transport of the Playwright project.
import { test as kit, type Tabs } from '../../src/testing/playwright/index.ts';
import { APP_EVENTS, type AppKind } from './app-driver.ts';
import { appDir, type Transport } from './harness.ts';
import { REAL_PERFORMANCE } from './workers.ts';

export { expect } from '../../src/testing/playwright/index.ts';

/** Options a spec sets with `test.use`. */
export interface KitAppOptions {
  /** The transport under test; set per project in playwright.config.ts. */
  transport: Transport;
  /** More query parameters of the fixture app (graceMs, callTimeoutMs...; see fixtures/app/common.js). */
  appQuery: Record<string, string | number>;
  /** The static files the server serves at `/`: the fixture app unless a spec names others. */
  appFiles: string;
}

/**
 * The fixture app's URL for this test (its transport and identity provider), as `kind` (default
 * seed.html, the facade; app.html is the module API) with more query parameters.
 */
export function appUrl(
  tabs: Tabs,
  { kind = 'seed', query = {} }: { kind?: AppKind; query?: Record<string, string | number> } = {},
): string {
  const url = new URL(tabs.url);
  url.pathname = `/${kind}.html`;
  for (const [name, value] of Object.entries(query)) url.searchParams.set(name, String(value));
  return url.href;
}

export const test = kit.extend<KitAppOptions>({
  // Keeps the page's real `performance` where isInPageLeader (workers.ts) finds it: the kit's
  // clock installs Playwright's, whose resource timing is empty. Added first, so it runs first.
  // And the app's identityTokenProvider (`provider` query) mints at the kit's identity provider.
  context: async ({ context, identityProvider }, use) => {
    await context.addInitScript(
      (key) => Object.defineProperty(window, key, { value: performance, enumerable: false }),
      REAL_PERFORMANCE,
    );
    await context.exposeFunction('__tabwardenKitMint', (sub: string, expiresInSeconds: number) =>
      identityProvider.mint({ sub, expiresInSeconds }),
    );
    await use(context);
  },
  transport: ['service-worker', { option: true }],
  appQuery: [{}, { option: true }],
  appFiles: [appDir, { option: true }],
  tabwarden: async ({ transport, appQuery, appFiles }, use) => {
    await use({
      appDir: appFiles,
      appUrl: ({ serverUrl, identityProvider: { issuer, jwksUrl, audience } }) => {
        const query = { transport, issuer, jwksUrl, audience, ...appQuery };
        return `${serverUrl}/seed.html?${new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]))}`;
      },
      recordEvents: [...APP_EVENTS],
      // The kit's default client on seed.html (the facade's, as the doc tests use it); the
      // module API's own on app.html.
      appClient: () =>
        (window as unknown as { embeddedservice_bootstrap?: { tabwarden?: unknown } })
          .embeddedservice_bootstrap?.tabwarden ?? (window as unknown as { app?: { tw?: unknown } }).app?.tw,
    });
  },
});
