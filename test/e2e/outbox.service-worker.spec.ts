// R12's Background Sync path, the service worker's alone: with no tab of the app open and the
// worker stopped, the browser's \`sync\` event delivers the outbox. The tests fire it through the
// DevTools protocol (ServiceWorker.dispatchSyncEvent), as Chromium does when the network returns.
import { value } from './app-driver.ts';
import { expect, offline, signedIn, storedTexts, test } from './outbox-helpers.ts';

test('R12: Background Sync delivers the outbox with no tab of the app open (service worker)', async ({
  app,
  context,
  browser,
  transport,
}) => {
  const [tab] = await signedIn(app, 1);
  const origin = new URL(app.server.url).origin;
  const back = await offline(context, browser, transport, app.server.url);
  try {
    for (const i of [1, 2, 3]) await value(tab!, 'sendMessage', `synced ${i}`);
  } finally {
    // A page of no origin drives the DevTools protocol once the app's tab is closed.
    const blank = await context.newPage();
    const cdp = await context.newCDPSession(blank);
    const registrations = new Map<string, string>();
    cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations: updated }) => {
      for (const r of updated as Array<{ registrationId: string; scopeURL: string }>) {
        registrations.set(r.scopeURL, r.registrationId);
      }
    });
    await cdp.send('ServiceWorker.enable');
    await tab!.close();
    // The worker stopped too: no timer of its own is left to deliver.
    await cdp.send('ServiceWorker.stopAllWorkers');
    await back();
    const before = app.server.requestCount('POST', '/v1/conversations');
    expect(before).toBeGreaterThan(0);
    await expect.poll(() => registrations.size).toBeGreaterThan(0);
    const registrationId = [...registrations].find(([scope]) => scope.startsWith(origin))![1];
    await cdp.send('ServiceWorker.dispatchSyncEvent', {
      origin,
      registrationId,
      tag: 'tabwarden-outbox',
      lastChance: false,
    });
    await expect
      .poll(
        () =>
          app.server
            .requests()
            .filter((r) => r.method === 'POST' && r.path.endsWith('/messages') && (r.status ?? 0) < 300)
            .length,
        { timeout: 10_000 },
      )
      .toBe(3);
    expect(context.pages().filter((page) => page.url().startsWith(origin))).toEqual([]);
    await blank.close();
  }
  const [reopened] = await signedIn(app, 1);
  expect(await storedTexts(reopened!)).toEqual(['synced 1', 'synced 2', 'synced 3']);
});
