import type { Browser, LaunchOptions } from 'playwright-core';

/** Where Debian (and Ubuntu's `chromium` package) install Chromium. */
export const DEBIAN_CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * The command-line flags tabwarden's own e2e suite runs Chromium with: no sandbox (containers
 * and CI runners rarely allow one), no GPU, no QUIC, and none of the background traffic a fresh
 * profile starts (component updates, sync, first-run pages), so a test talks to 127.0.0.1 only.
 */
export const CHROMIUM_ARGS: readonly string[] = Object.freeze([
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]);

/**
 * The Chromium the tests run: `TABWARDEN_CHROMIUM` if set (a Chrome or Chromium you already
 * have), else {@link DEBIAN_CHROMIUM_PATH}. The Playwright config, `npm run bench` and the
 * test kit all launch this one.
 *
 * @example
 * ```ts
 * // TABWARDEN_CHROMIUM=/opt/google/chrome/chrome npx playwright test
 * import { chromiumPath } from 'tabwarden/testing';
 * console.log(chromiumPath());
 * ```
 */
export function chromiumPath(env: Record<string, string | undefined> = process.env): string {
  return env.TABWARDEN_CHROMIUM?.trim() || DEBIAN_CHROMIUM_PATH;
}

/** Options for {@link launchChromium} and {@link chromiumLaunchOptions}. */
export interface ChromiumOptions {
  /** The Chromium binary. Default {@link chromiumPath}: `TABWARDEN_CHROMIUM`, else Debian's. */
  executablePath?: string;
  /** Default true. */
  headless?: boolean;
  /** Flags added after {@link CHROMIUM_ARGS}. */
  extraArgs?: string[];
}

/**
 * The Playwright launch options for a system Chromium with {@link CHROMIUM_ARGS}: put them in
 * `use.launchOptions` of a `playwright.config.ts`, or pass them to `chromium.launch()`. Nothing
 * is downloaded: Playwright's own browser builds are not needed.
 *
 * @example
 * ```ts
 * // playwright.config.ts
 * import { defineConfig } from '@playwright/test';
 * import { chromiumLaunchOptions } from 'tabwarden/testing';
 *
 * export default defineConfig({
 *   use: { browserName: 'chromium', headless: true, launchOptions: chromiumLaunchOptions() },
 * });
 * ```
 */
export function chromiumLaunchOptions(options: ChromiumOptions = {}): LaunchOptions {
  return {
    executablePath: options.executablePath ?? chromiumPath(),
    headless: options.headless ?? true,
    args: [...CHROMIUM_ARGS, ...(options.extraArgs ?? [])],
  };
}

/**
 * Launches the system's Chromium through `playwright-core`, for tests that drive the browser
 * without the `@playwright/test` runner (vitest, node:test, scripts). `playwright-core` is loaded
 * only when this is called, so the rest of `tabwarden/testing` works without it.
 *
 * @example
 * ```ts
 * import { launchChromium, openTabs } from 'tabwarden/testing';
 *
 * const browser = await launchChromium();
 * try {
 *   const context = await browser.newContext();
 *   const [first, second] = await openTabs(context, 2, 'http://127.0.0.1:8787/');
 *   // ...
 * } finally {
 *   await browser.close();
 * }
 * ```
 */
export async function launchChromium(options: ChromiumOptions = {}): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch(chromiumLaunchOptions(options));
}
