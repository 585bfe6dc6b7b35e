import { defineConfig } from '@playwright/test';
import { chromiumLaunchOptions } from 'tabwarden/testing';

export default defineConfig({
  testDir: 'e2e',
  timeout: 30_000,
  workers: 1,
  reporter: 'list',
  use: { browserName: 'chromium', headless: true, launchOptions: chromiumLaunchOptions() },
});
