// The e2e infrastructure, proven against the reference server alone (a fixture page and a
// trivial service worker stand in for tabwarden's page stub): Debian's Chromium runs headless,
// pages in one context are tabs of one origin, CDP stops a service worker and the next fetch
// starts a fresh one, offline reaches the worker, the server counts what a worker sends it, and
// the event recorder sees a tab's first events.
import {
  collectEvents,
  eventsOf,
  goOffline,
  goOnline,
  launchChromium,
  openTabs,
  stopServiceWorker,
  waitForEvent,
  waitForServiceWorkerControl,
} from '../../src/testing/index.ts';
import type { BrowserContext, Page } from '@playwright/test';
import { expect, fixturesDir, test } from './harness.ts';

interface WorkerIdentity {
  instanceId: string;
  startedAt: number;
}
interface WorkerFetchAnswer {
  ok: boolean;
  status?: number;
  error?: string;
}
// What the fixture page (fixtures/fixture-page.js) puts on window.
interface FixturePage {
  registerWorker(): Promise<void>;
  askWorker(request: unknown, timeoutMs?: number): Promise<unknown>;
  dispatch(name: string, detail: unknown): void;
}
declare global {
  interface Window {
    fixture: FixturePage;
  }
}

test.use({ serverOptions: { staticDir: fixturesDir } });

/** One fixture tab, controlled by the fixture's service worker. */
async function openControlledTab(context: BrowserContext, serverUrl: string): Promise<Page> {
  const [page] = await openTabs(context, 1, `${serverUrl}/`);
  await page!.evaluate(() => window.fixture.registerWorker());
  await waitForServiceWorkerControl(page!);
  return page!;
}

test('pages opened in one context are tabs of one origin: they share its storage', async ({
  context,
  testServer,
}) => {
  const [first, second] = await openTabs(context, 2, `${testServer.url}/`);
  await expect(first!).toHaveTitle('tabwarden e2e fixture');
  await expect(second!).toHaveTitle('tabwarden e2e fixture');
  await first!.evaluate(() => localStorage.setItem('written-by', 'first tab'));
  expect(await second!.evaluate(() => localStorage.getItem('written-by'))).toBe('first tab');
});

test('CDP stops a controlling service worker, and the next fetch wakes a fresh instance that answers messages', async ({
  context,
  testServer,
}) => {
  const page = await openControlledTab(context, testServer.url);
  const before = (await page.evaluate(() => window.fixture.askWorker({ type: 'whoami' }))) as WorkerIdentity;

  const stopped = await stopServiceWorker(page);
  expect(stopped.versions.map((version) => new URL(version.scriptURL).pathname)).toContain('/sw-fixture.js');
  // Still controlled: a stopped worker is asleep, not gone.
  expect(await page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);

  const wakeStarted = Date.now();
  const woken = (await page.evaluate(() =>
    fetch('/__sw-fixture/whoami').then((response) => response.json()),
  )) as WorkerIdentity;
  const wakeMs = Date.now() - wakeStarted;
  expect(woken.instanceId).not.toBe(before.instanceId);
  expect(woken.startedAt).toBeGreaterThanOrEqual(before.startedAt);

  const answered = (await page.evaluate(() =>
    window.fixture.askWorker({ type: 'whoami' }),
  )) as WorkerIdentity;
  expect(answered.instanceId).toBe(woken.instanceId);
  test.info().annotations.push({
    type: 'timing',
    description: `stop ${stopped.elapsedMs.toFixed(0)} ms, wake by fetch ${wakeMs} ms`,
  });
});

test('stopping the service worker again after a restart works, and a message alone wakes it', async ({
  context,
  testServer,
}) => {
  const page = await openControlledTab(context, testServer.url);
  const seen = new Set<string>();
  for (let round = 0; round < 3; round++) {
    const { instanceId } = (await page.evaluate(() =>
      window.fixture.askWorker({ type: 'whoami' }),
    )) as WorkerIdentity;
    seen.add(instanceId);
    await stopServiceWorker(page);
  }
  expect(seen.size).toBe(3);
});

test('stopServiceWorker fails clearly when the origin has no service worker', async ({
  context,
  testServer,
}) => {
  const [page] = await openTabs(context, 1, `${testServer.url}/`);
  await expect(stopServiceWorker(page!)).rejects.toThrow(/no service worker registered/);
});

test('a fetch the service worker makes reaches the server and is counted there', async ({
  context,
  testServer,
}) => {
  const page = await openControlledTab(context, testServer.url);
  const identityToken = await testServer.mintIdentityToken({ sub: 'alice', expiresInSeconds: 60 });
  expect(testServer.exchangeCount()).toBe(0);

  const answer = (await page.evaluate(
    (body) =>
      window.fixture.askWorker({
        type: 'fetch',
        url: '/v1/authorization',
        init: { method: 'POST', headers: { 'content-type': 'application/json' }, body },
      }),
    JSON.stringify({ identityToken }),
  )) as WorkerFetchAnswer;

  expect(answer).toEqual({ ok: true, status: 200 });
  expect(testServer.exchangeCount()).toBe(1);
  expect(testServer.requests()).toContainEqual({ method: 'POST', path: '/v1/authorization', status: 200 });
});

test('going offline cuts the page and its service worker off the server; going online restores both', async ({
  context,
  testServer,
}) => {
  const page = await openControlledTab(context, testServer.url);
  const workerFetch = () =>
    page.evaluate(() =>
      window.fixture.askWorker({ type: 'fetch', url: '/healthz' }),
    ) as Promise<WorkerFetchAnswer>;
  const pageFetch = () =>
    page.evaluate(() =>
      fetch('/healthz', { cache: 'no-store' }).then(
        (response) => response.status,
        () => 'failed',
      ),
    );

  await goOffline(context);
  expect(await page.evaluate(() => navigator.onLine)).toBe(false);
  expect((await workerFetch()).ok).toBe(false);
  expect(await pageFetch()).toBe('failed');

  await goOnline(context);
  expect(await workerFetch()).toEqual({ ok: true, status: 200 });
  expect(await pageFetch()).toBe(200);
});

test('the event recorder sees a tab’s first event, records only tabwarden events, and starts afresh on reload', async ({
  context,
  testServer,
}) => {
  await collectEvents(context);
  const [tab] = await openTabs(context, 1, `${testServer.url}/`);
  const page = tab!;
  // Dispatched by the page's first script, before any test code could have listened.
  const ready = await waitForEvent(page, 'onEmbeddedMessagingReady');
  expect(ready.detail).toEqual({});

  await page.evaluate(() => {
    window.fixture.dispatch('unrelated-event', { ignored: true });
    window.fixture.dispatch('onEmbeddedMessagingIdentityTokenRejected', {
      code: 'ERR_TOKEN_SIGNATURE',
      message: 'bad signature',
    });
  });
  const rejected = await waitForEvent<{ code: string }>(page, 'onEmbeddedMessagingIdentityTokenRejected');
  expect(rejected.detail.code).toBe('ERR_TOKEN_SIGNATURE');
  expect((await eventsOf(page)).map((event) => event.name)).toEqual([
    'onEmbeddedMessagingReady',
    'onEmbeddedMessagingIdentityTokenRejected',
  ]);

  await page.reload();
  await waitForEvent(page, 'onEmbeddedMessagingReady');
  expect(await eventsOf(page, 'onEmbeddedMessagingIdentityTokenRejected')).toEqual([]);
});

test('waitForEvent gives up after its timeout and names the events the tab did dispatch', async ({
  context,
  testServer,
}) => {
  await collectEvents(context);
  const [page] = await openTabs(context, 1, `${testServer.url}/`);
  await expect(
    waitForEvent(page!, 'onEmbeddedMessagingConversationStarted', { timeoutMs: 300 }),
  ).rejects.toThrow(
    /did not dispatch onEmbeddedMessagingConversationStarted within 300 ms \(events seen: onEmbeddedMessagingReady\)/,
  );
});

test('startTestServer mints identity tokens its exchange accepts, serves their JWKS, and counts every exchange', async ({
  testServer,
}) => {
  const exchange = async (identityToken: string) =>
    (
      await fetch(`${testServer.url}/v1/authorization`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ identityToken }),
      })
    ).status;
  expect(await exchange(await testServer.mintIdentityToken({ sub: 'bob' }))).toBe(200);
  expect(await exchange(await testServer.mintIdentityToken({ sub: 'bob', expiresInSeconds: -10 }))).toBe(401);
  expect(testServer.exchangeCount()).toBe(2);
  const jwks = await (await fetch(testServer.jwksUrl!)).json();
  expect(jwks).toEqual(testServer.jwks);
});

test('launchChromium starts the system Chromium headless, for tests outside the Playwright runner', async ({
  testServer,
}) => {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(`${testServer.url}/`);
    await expect(page).toHaveTitle('tabwarden e2e fixture');
    expect(await page.evaluate(() => navigator.userAgent)).toContain('HeadlessChrome');
  } finally {
    await browser.close();
  }
});
