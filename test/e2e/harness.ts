// The e2e suite's Playwright fixtures: the transport under test (one Playwright project per
// transport, see playwright.config.ts) and a reference server started for each test.
import { fileURLToPath } from 'node:url';
import { test as base, expect } from '@playwright/test';
import { startTestServer, type StartTestServerOptions, type TestServer } from '../../src/testing/index.ts';

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
}

/** Static files of the infrastructure tests: a fixture page and a trivial service worker. */
export const fixturesDir = fileURLToPath(new URL('./fixtures/', import.meta.url));

export const test = base.extend<TabwardenTestOptions & TabwardenFixtures>({
  transport: ['service-worker', { option: true }],
  serverOptions: [{}, { option: true }],
  testServer: async ({ serverOptions }, use) => {
    const server = await startTestServer(serverOptions);
    try {
      await use(server);
    } finally {
      await server.close();
    }
  },
});

export { expect };
