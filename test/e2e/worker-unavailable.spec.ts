// A missing or broken worker script is a coded error within two seconds that names the URL and
// what the server answered — not a registration swallowed, a fallback to a SharedWorker that is
// missing too, and ERR_TIMEOUT 20 s later.
import { createTabwardenOn } from './create-tabwarden-on.ts';
import { fixturesDir } from './harness.ts';
import { expect, test } from './kit-app.ts';

test.use({ appFiles: fixturesDir });

test('R11: a missing worker script is ERR_WORKER_UNAVAILABLE naming its URL and the 404, within 2 s', async ({
  page,
  server,
  identityProvider,
  transport,
}) => {
  await page.goto(`${server.url}/index.html`);
  const outcome = await createTabwardenOn(page, identityProvider, {
    // What most apps run: `auto` picks the service worker where there is one.
    transport: transport === 'service-worker' ? 'auto' : transport,
    serviceWorkerUrl: '/missing/tabwarden-sw.js',
    sharedWorkerUrl: '/missing/tabwarden-shared-worker.js',
    inPageHostUrl: '/missing/tabwarden-in-page-host.js',
  });
  const file = {
    'service-worker': 'tabwarden-sw.js',
    'shared-worker': 'tabwarden-shared-worker.js',
    'in-page': 'tabwarden-in-page-host.js',
  }[transport];
  expect(outcome.code).toBe('ERR_WORKER_UNAVAILABLE');
  expect(outcome.message).toContain(`${server.url}/missing/${file}`);
  expect(outcome.message).toContain('HTTP 404');
  expect(outcome.ms).toBeLessThan(2_000);
});
