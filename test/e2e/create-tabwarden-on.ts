// Calls createTabwarden on a plain page of the test server (the page bundle from /bundles/) and
// reports how it ended, for the tests of how it fails.
import type { Page } from '@playwright/test';
import type { ServedIdentityProvider } from '../../src/testing/playwright/index.ts';

export interface Outcome {
  code?: string;
  message?: string;
  ms: number;
}

/**
 * Calls createTabwarden on a plain page of the test server, its worker trusting
 * `identityProvider`, and reports how it failed.
 */
export function createTabwardenOn(
  page: Page,
  identityProvider: Pick<ServedIdentityProvider, 'issuer' | 'jwksUrl'>,
  settings: Record<string, unknown>,
) {
  return page.evaluate(
    async ({ settings, issuer, jwksUrl }): Promise<Outcome> => {
      const { createTabwarden } = await import(/* @vite-ignore */ `${location.origin}/bundles/tabwarden.js`);
      const started = performance.now();
      try {
        await createTabwarden({ ...settings, worker: { issuer, jwksUrl, serverUrl: location.origin } });
        return { ms: performance.now() - started };
      } catch (error) {
        const { code, message } = error as { code?: string; message?: string };
        return { code, message, ms: performance.now() - started };
      }
    },
    { settings, issuer: identityProvider.issuer, jwksUrl: identityProvider.jwksUrl },
  );
}
