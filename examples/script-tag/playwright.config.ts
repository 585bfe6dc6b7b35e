import { defineConfig } from '@playwright/test';
import { chromiumLaunchOptions } from 'tabwarden/testing';

export default defineConfig({
  testDir: 'e2e',
  timeout: 30_000,
  // Generous: the first load installs the service worker, and CI machines are busy.
  expect: { timeout: 15_000 },
  workers: 1,
  reporter: 'list',
  use: { browserName: 'chromium', headless: true, launchOptions: chromiumLaunchOptions() },
});
