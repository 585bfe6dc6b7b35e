// The e2e suite's Playwright fixtures: the transport under test (one Playwright project per
// transport, see playwright.config.ts) and a reference server started for each test.
import { fileURLToPath } from 'node:url';
import { test as base, expect } from '@playwright/test';
import { startTestServer, type StartTestServerOptions, type TestServer } from '../../src/testing/index.ts';
import { AppDriver } from './app-driver.ts';

/** How tabs reach the shared session (R11). */
export type Transport = 'service-worker' | 'shared-worker' | 'in-page';

/** Options a project or a test file sets with `use` / `test.use`. */
export interface TabwardenTestOptions {
  /** The transport this run tests; set per project in playwright.config.ts. */
  transport: Transport;
  /** Options for this test's reference server (`startTestServer`). */
  serverOptions: StartTestServerOptions;
}

/** Fixtures the e2e tests receive. */
export interface TabwardenFixtures {
  /** A reference server on 127.0.0.1 for this test alone; closed after it. */
  testServer: TestServer;
  /** The fixture app (fixtures/app/) on that server, for the transport under test. */
  app: AppDriver;
}

/** Static files of the infrastructure tests: a fixture page and a trivial service worker. */
export const fixturesDir = fileURLToPath(new URL('./fixtures/', import.meta.url));

/**
 * The behaviour suite's fixture app (`app.html`: module API; `seed.html`: the seed's facade),
 * served at `/` unless a test's `serverOptions` name another `staticDir`.
 */
export const appDir = fileURLToPath(new URL('./fixtures/app/', import.meta.url));

export const test = base.extend<TabwardenTestOptions & TabwardenFixtures>({
  transport: ['service-worker', { option: true }],
  serverOptions: [{}, { option: true }],
  testServer: async ({ serverOptions }, use) => {
    const server = await startTestServer({ staticDir: appDir, ...serverOptions });
    try {
      await use(server);
    } finally {
      await server.close();
    }
  },
  app: async ({ context, testServer, transport }, use) => {
    await use(new AppDriver(context, testServer, transport));
  },
});

export { expect };
