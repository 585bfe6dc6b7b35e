// End-to-end tests: Playwright driving Debian's Chromium (/usr/bin/chromium; no browser is ever
// downloaded) against the reference server on 127.0.0.1. See docs/testing.md.
//
// The behaviour suite runs once per transport (R11): one project per transport, each setting the
// `transport` option of test/e2e/harness.ts. Only transports whose worker host and page stub are
// ready are registered — a transport that cannot pass yet is left out, never skipped test by test.
// Run others with TABWARDEN_E2E_TRANSPORTS=shared-worker,in-page (or =all) npx playwright test.
import { defineConfig } from '@playwright/test';
import { chromiumLaunchOptions } from './src/testing/browser/launch-chromium.ts';
import type { TabwardenTestOptions, Transport } from './test/e2e/harness.ts';

const ALL_TRANSPORTS: readonly Transport[] = ['service-worker', 'shared-worker', 'in-page'];
// Transports the suite must pass on today. Add 'shared-worker' and 'in-page' as their hosts land.
const READY_TRANSPORTS: readonly Transport[] = ['service-worker'];

function selectedTransports(): readonly Transport[] {
  const requested = process.env.TABWARDEN_E2E_TRANSPORTS?.trim();
  if (!requested) return READY_TRANSPORTS;
  if (requested === 'all') return ALL_TRANSPORTS;
  const names = requested.split(',').map((name) => name.trim());
  for (const name of names) {
    if (!ALL_TRANSPORTS.includes(name as Transport)) {
      throw new Error(
        `TABWARDEN_E2E_TRANSPORTS: unknown transport ${name} (known: ${ALL_TRANSPORTS.join(', ')}, all)`,
      );
    }
  }
  return names as Transport[];
}

// Tests of the test kit itself: they do not depend on the transport, so they run once.
const INFRASTRUCTURE = /smoke\.spec\.ts$/;

export default defineConfig<TabwardenTestOptions>({
  testDir: 'test/e2e',
  testMatch: /\.spec\.ts$/,
  outputDir: 'test-results',
  timeout: 30_000,
  expect: { timeout: 5_000 },
  retries: 0,
  // Two cores here: one browser per worker process, test files in parallel, tests in a file in order.
  workers: 2,
  fullyParallel: false,
  forbidOnly: Boolean(process.env.CI),
  reporter: 'list',
  use: {
    browserName: 'chromium',
    headless: true,
    launchOptions: chromiumLaunchOptions(),
    serviceWorkers: 'allow',
    trace: 'off',
    screenshot: 'off',
    video: 'off',
  },
  projects: [
    { name: 'infrastructure', testMatch: INFRASTRUCTURE },
    ...selectedTransports().map((transport) => ({
      name: transport,
      testIgnore: INFRASTRUCTURE,
      use: { transport },
    })),
  ],
});
