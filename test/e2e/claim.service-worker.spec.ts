// R1/R11: a page loaded past the service worker, which the browser does not let it control, is
// claimed all the same. Tabs opened at once race the first worker's registration, activation and
// claim: a tab whose page is still loading when the worker claims the open tabs is not one of
// them (held at the front door, that race is the same on every run). A Shift+Reload loads past
// the worker too.
import { value } from './app-driver.ts';
import { appUrl, expect, test } from './kit-app.ts';

test('R1: a tab still loading while the first worker activates and claims is claimed all the same, and gets Ready on it', async ({
  tabs,
  server,
  context,
  identityProvider,
}) => {
  // Its page is asked for before any worker is registered, so the browser does not let a worker
  // control it; its answer comes only after the first tab's worker activated and claimed the
  // tabs open then.
  const page = server.hold('GET /app.html');
  const late = await context.newPage();
  const loaded = late.goto(appUrl(tabs, { kind: 'app' }));
  await page.arrived();
  const [first] = await tabs.open(1);
  expect(await first!.evaluate(() => navigator.serviceWorker.controller?.state)).toBe('activated');
  page.release();
  await loaded;

  const created = await late.evaluate(() => window.app.created);
  expect(created).toEqual({ ok: true, transport: 'service-worker' });
  expect(await late.evaluate(() => navigator.serviceWorker.controller?.state)).toBe('activated');
  // And it shares the session of the first tab: one engine, one conversation (R4).
  const token = await identityProvider.mint('alice');
  for (const tab of [first!, late]) await tabs.signIn(tab, token);
  const ids = await Promise.all(
    [first!, late].map((tab) => value<{ conversationId: string }>(tab, 'startConversation')),
  );
  expect(new Set(ids.map((info) => info.conversationId)).size).toBe(1);
});

test('R11: a page loaded by Shift+Reload is claimed by the active worker, not left to a SharedWorker', async ({
  tabs,
}) => {
  const [tab] = await tabs.open(1, { url: appUrl(tabs, { kind: 'app', query: { transport: 'auto' } }) });
  const page = tab!;
  // What the reloaded page finds as it starts, before its script runs.
  await page.addInitScript(() => {
    (window as unknown as { controlledAtLoad: boolean }).controlledAtLoad =
      navigator.serviceWorker.controller !== null;
  });
  const devtools = await page.context().newCDPSession(page);
  // Shift+Reload: past the cache and the service worker.
  await devtools.send('Page.reload', { ignoreCache: true });
  await page.waitForFunction(() => 'controlledAtLoad' in window && window.app?.created !== undefined);
  expect(
    await page.evaluate(() => (window as unknown as { controlledAtLoad: boolean }).controlledAtLoad),
  ).toBe(false);
  expect(await page.evaluate(() => window.app.created)).toEqual({ ok: true, transport: 'service-worker' });
});
