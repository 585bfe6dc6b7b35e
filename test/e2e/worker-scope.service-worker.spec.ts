// A service worker served from a folder below the scope it is asked to control, without
// Service-Worker-Allowed, is a coded error that names the header.
import { createTabwardenOn } from './create-tabwarden-on.ts';
import { fixturesDir } from './harness.ts';
import { expect, test } from './kit-app.ts';

test.use({ appFiles: fixturesDir });

test('R11: a service worker without Service-Worker-Allowed for its scope is ERR_WORKER_UNAVAILABLE naming the header', async ({
  page,
  server,
  identityProvider,
}) => {
  await page.goto(`${server.url}/index.html`);
  // Any JavaScript file in a folder: the static files are served without the header.
  const outcome = await createTabwardenOn(page, identityProvider, { serviceWorkerUrl: '/app/common.js' });
  expect(outcome.code).toBe('ERR_WORKER_UNAVAILABLE');
  expect(outcome.message).toContain(`${server.url}/app/common.js`);
  expect(outcome.message).toContain('Service-Worker-Allowed: /');
  expect(outcome.ms).toBeLessThan(2_000);
});
