// R12's outbox in real Chromium, once per transport, through the test kit (kit-app.ts): messages
// sent while the network or the server fails wait in IndexedDB, show as pending in every verified
// tab, and are delivered in order, exactly once, when the network returns — after a reload, with
// every tab closed. A clear sends none of them. The kit's `network` takes every tab and worker
// offline; its `server` cuts or fails the messages route. (Background Sync, the service worker's:
// outbox.service-worker.spec.ts.)
import type { Page } from '@playwright/test';
import type { OutboxMessage } from '../../src/core/protocol.ts';
import { eventsOf } from '../../src/testing/index.ts';
import type { Tabs } from '../../src/testing/playwright/index.ts';
import { readDatabase, reload } from './app-driver.ts';
import { appUrl, expect, test } from './kit-app.ts';

const MESSAGES = 'POST /v1/conversations/:id/messages';

/** `count` tabs of the module-API app, signed in as alice, sharing a started conversation. */
async function signedIn(tabs: Tabs, count: number): Promise<Page[]> {
  const opened = await tabs.open(count, { url: appUrl(tabs, { kind: 'app' }), as: 'alice' });
  await tabs.call(opened[0]!, 'startConversation');
  return opened;
}

/** The user entries the server stored, read online from `tab`. */
async function storedTexts(tabs: Tabs, tab: Page): Promise<string[]> {
  const entries = await tabs.call(tab, 'listEntries', 0);
  return entries.filter((entry) => entry.role === 'user').map((entry) => entry.text);
}

/** The outbox the tab was last shown (its `outbox` events). */
async function shownOutbox(tab: Page): Promise<OutboxMessage[] | undefined> {
  const events = await eventsOf<{ messages: OutboxMessage[] }>(tab, 'app:outbox');
  return events.at(-1)?.detail.messages;
}

test('R12: offline, 10 sends from each of 3 tabs answer pending and show in every tab; after reconnecting each is stored once, in each tab’s order', async ({
  tabs,
  network,
  events,
}) => {
  const open = await signedIn(tabs, 3);
  await network.offline();
  const written = open.map((_tab, t) =>
    Array.from({ length: 10 }, (_, i) => `tab ${t + 1}, message ${i + 1}`),
  );
  try {
    await Promise.all(
      open.map(async (tab, t) => {
        for (const text of written[t]!) {
          expect(await tabs.call(tab, 'sendMessage', text)).toMatchObject({ status: 'pending', text });
        }
      }),
    );
    for (const tab of open) {
      await expect.poll(async () => (await shownOutbox(tab))?.length).toBe(30);
      const shown = (await shownOutbox(tab))!.map((message) => message.text);
      // Each tab's messages in the order it wrote them.
      for (const own of written) expect(shown.filter((text) => own.includes(text))).toEqual(own);
      expect(await events.of(tab, 'app:connectivity')).toContainEqual(
        expect.objectContaining({ detail: { online: false } }),
      );
    }
    expect((await readDatabase(open[0]!))?.outbox).toHaveLength(30);
  } finally {
    await network.online();
  }
  await expect.poll(async () => (await storedTexts(tabs, open[0]!)).length, { timeout: 15_000 }).toBe(30);
  const stored = await storedTexts(tabs, open[1]!);
  for (const own of written) expect(stored.filter((text) => own.includes(text))).toEqual(own);
  expect(new Set(stored).size).toBe(30);
  for (const tab of open) {
    await expect.poll(async () => (await shownOutbox(tab))?.length).toBe(0);
    expect((await events.of<{ online: boolean }>(tab, 'app:connectivity')).at(-1)?.detail.online).toBe(true);
  }
  expect((await readDatabase(open[0]!))?.outbox).toEqual([]);
});

test('R12: messages pending while the server is unreachable survive a reload of the tab and go out, in order, once it is back', async ({
  tabs,
  server,
}) => {
  const [tab] = (await signedIn(tabs, 1)) as [Page];
  server.cut(MESSAGES);
  for (const text of ['before the reload 1', 'before the reload 2']) {
    expect(await tabs.call(tab, 'sendMessage', text)).toMatchObject({ status: 'pending' });
  }
  await reload(tab);
  await tabs.signIn(tab, 'alice');
  expect((await tabs.call(tab, 'listOutbox')).map((message) => message.text)).toEqual([
    'before the reload 1',
    'before the reload 2',
  ]);
  server.heal();
  // The next send goes behind the waiting ones, and takes them along.
  await tabs.call(tab, 'sendMessage', 'after the reload');
  await expect
    .poll(() => storedTexts(tabs, tab), { timeout: 10_000 })
    .toEqual(['before the reload 1', 'before the reload 2', 'after the reload']);
});

test('R12: every tab closed while offline, the app opened again online: the outbox is delivered, each message once', async ({
  tabs,
  network,
}) => {
  const open = await signedIn(tabs, 2);
  await network.offline();
  try {
    for (const [t, tab] of open.entries()) {
      for (const i of [1, 2]) await tabs.call(tab, 'sendMessage', `tab ${t + 1}, before closing ${i}`);
    }
  } finally {
    for (const tab of open) await tab.close();
    await network.online();
  }
  const [reopened] = (await signedIn(tabs, 1)) as [Page];
  await expect
    .poll(async () => (await storedTexts(tabs, reopened)).sort(), { timeout: 15_000 })
    .toEqual([
      'tab 1, before closing 1',
      'tab 1, before closing 2',
      'tab 2, before closing 1',
      'tab 2, before closing 2',
    ]);
  const stored = await storedTexts(tabs, reopened);
  expect(stored.indexOf('tab 1, before closing 1')).toBeLessThan(stored.indexOf('tab 1, before closing 2'));
  expect(stored.indexOf('tab 2, before closing 1')).toBeLessThan(stored.indexOf('tab 2, before closing 2'));
});

test('R7/R12: clearSession with messages queued sends none of them, and the outbox is empty', async ({
  tabs,
  server,
}) => {
  const [first, second] = (await signedIn(tabs, 2)) as [Page, Page];
  server.cut(MESSAGES);
  for (const i of [1, 2, 3]) await tabs.call(first, 'sendMessage', `never sent ${i}`);
  await tabs.call(second, 'clearSession');
  expect((await readDatabase(first))?.outbox).toEqual([]);
  server.heal();
  // The same user again, online: the cleared session's messages stay unsent.
  for (const tab of [first, second]) await tabs.signIn(tab, 'alice');
  await tabs.call(first, 'startConversation');
  await tabs.call(first, 'sendMessage', 'after the logout');
  expect(await storedTexts(tabs, second)).toEqual(['after the logout']);
  // Of every post that reached the server's front door, only that one went through.
  const passed = server
    .requests()
    .filter((r) => r.method === 'POST' && r.path.endsWith('/messages') && !r.fault);
  expect(passed).toHaveLength(1);
  expect(await tabs.call(first, 'listOutbox')).toEqual([]);
});

test('R12: the server answers 500, the message waits; once the server recovers it is stored once', async ({
  tabs,
  server,
}) => {
  const [tab, other] = (await signedIn(tabs, 2)) as [Page, Page];
  server.fail(MESSAGES, 500, 'ERR_TEST_FAULT');
  expect(await tabs.call(tab, 'sendMessage', 'during the outage')).toMatchObject({ status: 'pending' });
  await expect.poll(async () => (await shownOutbox(other))?.map((m) => m.status)).toEqual(['pending']);
  server.heal();
  // The outbox's retry (1 s, then doubling) delivers it without another request.
  await expect.poll(() => storedTexts(tabs, other), { timeout: 10_000 }).toEqual(['during the outage']);
  await expect.poll(async () => (await shownOutbox(other))?.length).toBe(0);
});

test('R12: a 4xx for a waiting message marks it failed with its code in every tab; a retry delivers it', async ({
  tabs,
  server,
  events,
}) => {
  const [tab, other] = (await signedIn(tabs, 2)) as [Page, Page];
  server.cut(MESSAGES);
  expect(await tabs.call(tab, 'sendMessage', 'refused, then retried')).toMatchObject({ status: 'pending' });
  server.fail(MESSAGES, 422, 'ERR_CONVERSATION_ENDED');
  await expect
    .poll(async () => (await shownOutbox(other))?.map((m) => [m.status, m.error?.code]), { timeout: 10_000 })
    .toEqual([['failed', 'ERR_CONVERSATION_ENDED']]);
  const [failed] = await tabs.call(tab, 'listOutbox');
  server.heal();
  await tabs.call(other, 'retryMessage', failed!.clientMessageId);
  await expect.poll(() => storedTexts(tabs, tab), { timeout: 10_000 }).toEqual(['refused, then retried']);
  await expect.poll(async () => (await shownOutbox(tab))?.length).toBe(0);
  expect(await events.of(tab, 'app:message-delivered')).toContainEqual(
    expect.objectContaining({
      detail: { entry: expect.objectContaining({ text: 'refused, then retried' }) },
    }),
  );
});
