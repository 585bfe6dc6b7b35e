// R12's Background Sync path, the service worker's alone: a message that could not go out waits
// in the outbox; with every tab of the app closed and the worker stopped, the browser's `sync`
// event (fired through the DevTools protocol, as Chromium fires it when the network returns)
// starts the worker, which delivers it, once. And while the server fails, that path does not
// retry in a loop, nor ends with the browser's last try.
import type { Page } from '@playwright/test';
import { fireBackgroundSync } from '../../src/testing/index.ts';
import { expect, test } from './kit-app.ts';

const MESSAGES = 'POST /v1/conversations/:id/messages';

test('R12: with no tab open and the worker stopped, Background Sync delivers the outbox, each message once', async ({
  tabs,
  server,
  network,
  context,
}) => {
  const [tab] = (await tabs.open(1, { as: 'alice' })) as [Page];
  await tabs.call(tab, 'startConversation');
  network.cut(MESSAGES);
  for (const text of ['queued 1', 'queued 2']) {
    expect(await tabs.call(tab, 'sendMessage', text)).toMatchObject({ status: 'pending', text });
  }
  const origin = new URL(tab.url()).origin;
  await tab.close();
  // No tab of the app is left; this one only reaches the browser's DevTools protocol.
  const blank = await context.newPage();
  const devtools = await context.newCDPSession(blank);
  await devtools.send('ServiceWorker.enable');
  await devtools.send('ServiceWorker.stopAllWorkers');
  const delivered = () =>
    server.requests().filter((r) => r.method === 'POST' && r.path.endsWith('/messages') && !r.fault);
  expect(delivered()).toHaveLength(0);

  network.heal();
  await fireBackgroundSync(blank, origin, 'tabwarden-outbox');
  await expect.poll(() => delivered().length, { timeout: 10_000 }).toBe(2);

  const [back] = (await tabs.open(1, { as: 'alice' })) as [Page];
  const stored = await tabs.call(back, 'listEntries', 0);
  expect(stored.filter((entry) => entry.role === 'user').map((entry) => entry.text)).toEqual([
    'queued 1',
    'queued 2',
  ]);
  expect(await tabs.call(back, 'listOutbox')).toEqual([]);
});

test('R12: while the server answers 500, a pending message is retried on the backoff, not in a loop of sync events', async ({
  tabs,
  server,
}) => {
  const [tab] = (await tabs.open(1, { as: 'alice' })) as [Page];
  await tabs.call(tab, 'startConversation');
  server.fail(MESSAGES, 500);
  expect(await tabs.call(tab, 'sendMessage', 'while failing')).toMatchObject({ status: 'pending' });
  const answered = server.count(MESSAGES);
  // A rate, so counted over a while: in 2 s the outbox retries once (after 1 s) and Background
  // Sync, which the browser fires at once while it is online, once. A sync event registered
  // again while it ran fired again as it ended: dozens of posts a second.
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  expect(server.count(MESSAGES) - answered).toBeLessThanOrEqual(3);
  server.heal();
  await expect.poll(async () => (await tabs.call(tab, 'listOutbox')).length).toBe(0);
});

test("R12: a failed last-chance sync event registers the outbox's tag again, so the browser's tries go on", async ({
  tabs,
  server,
  context,
}) => {
  const [tab] = (await tabs.open(1, { as: 'alice' })) as [Page];
  await tabs.call(tab, 'startConversation');
  // The message is written to the outbox and its post held on the wire: no pass failed, so no
  // tag was registered. The tab closes and the worker stops with the post still held.
  const onTheWire = server.hold(MESSAGES);
  void tabs.call(tab, 'sendMessage', 'after the last try').catch(() => undefined);
  await onTheWire.arrived();
  const origin = new URL(tab.url()).origin;
  // Chromium registers a sync only while a window of the origin is open: a page without the app.
  const other = await context.newPage();
  await other.goto(`${origin}/not-the-app`);
  await tab.close();
  const devtools = await context.newCDPSession(other);
  await devtools.send('ServiceWorker.enable');
  await devtools.send('ServiceWorker.stopAllWorkers');
  const tags = () =>
    other.evaluate(async () => {
      const registration = (await navigator.serviceWorker.getRegistration()) as
        (ServiceWorkerRegistration & { sync: { getTags(): Promise<string[]> } }) | undefined;
      return registration ? registration.sync.getTags() : ['no registration'];
    });
  expect(await tags()).toEqual([]);

  server.fail(MESSAGES, 500);
  const posted = server.count(MESSAGES);
  await fireBackgroundSync(other, origin, 'tabwarden-outbox', { lastChance: true });
  // The event's run posts twice: the started worker's own delivery of what it found, then once
  // more for the event, which joined it. Then the event fails. The outbox's retry (1 s after the
  // first failure) is kept on the wire, as if the worker had stopped first: a failed pass would
  // register the tag, so only the failed event itself can have registered it.
  await expect.poll(() => server.count(MESSAGES), { intervals: [10] }).toBeGreaterThanOrEqual(posted + 2);
  server.hold(MESSAGES);
  await expect.poll(tags, { timeout: 5_000 }).toEqual(['tabwarden-outbox']);
});
