// End-to-end tests: Playwright driving Debian's Chromium (/usr/bin/chromium; no browser is ever
// downloaded) against the reference server on 127.0.0.1. See docs/testing.md.
//
// The behaviour suite runs once per transport (R11): one project per transport, each setting the
// `transport` option of test/e2e/harness.ts. Every transport's host and page stub exist, so all
// three are registered; a test that finds a product bug fails, it is never skipped. Run a subset
// with TABWARDEN_E2E_TRANSPORTS=shared-worker,in-page npx playwright test.
import { defineConfig } from '@playwright/test';
import { chromiumLaunchOptions } from './src/testing/browser/launch-chromium.ts';
import type { TabwardenTestOptions, Transport } from './test/e2e/harness.ts';

const ALL_TRANSPORTS: readonly Transport[] = ['service-worker', 'shared-worker', 'in-page'];
// Transports the suite runs on by default: all three.
const READY_TRANSPORTS: readonly Transport[] = ALL_TRANSPORTS;

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
const INFRASTRUCTURE = /(smoke|portal)\.spec\.ts$/;
// Behaviour only a service worker has (an update to a new version); the other projects skip the file.
const SERVICE_WORKER_ONLY = /\.service-worker\.spec\.ts$/;

export default defineConfig<TabwardenTestOptions>({
  testDir: 'test/e2e',
  testMatch: /\.spec\.ts$/,
  outputDir: 'test-results/playwright',
  timeout: 30_000,
  expect: { timeout: 5_000 },
  // A failed test runs once more; one that then passes is reported "flaky" in the summary, never
  // silently green, and each is tracked as a bug (the issues' notes list them). Two cores shared
  // by two browsers make rare timing flakes; a red run would otherwise hide every other result.
  retries: 1,
  // Two cores here: one browser per worker process. Every test has its own server and browser
  // context, so tests run in parallel across files and within them (balances the long R6/R10 ones).
  workers: 2,
  fullyParallel: true,
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
      testIgnore: transport === 'service-worker' ? INFRASTRUCTURE : [INFRASTRUCTURE, SERVICE_WORKER_ONLY],
      use: { transport },
    })),
  ],
});
