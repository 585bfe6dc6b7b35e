// R12's outbox in real Chromium, once per transport: messages sent while the network or the
// server fails wait in IndexedDB, show as pending in every verified tab, and are delivered in
// order, exactly once, when the network returns — after a reload, with every tab closed. A clear
// sends none of them. (Background Sync, the service worker's: outbox.service-worker.spec.ts.)
import { eventsOf } from '../../src/testing/index.ts';
import { readDatabase, reload, value } from './app-driver.ts';
import {
  expect,
  MESSAGES,
  offline,
  shownOutbox,
  signedIn,
  signInAgain,
  storedTexts,
  test,
  type OutboxMessage,
} from './outbox-helpers.ts';

test('R12: offline, 10 sends from each of 3 tabs answer pending and show in every tab; after reconnecting each is stored once, in each tab’s order', async ({
  app,
  context,
  browser,
  transport,
}) => {
  const tabs = await signedIn(app, 3);
  const back = await offline(context, browser, transport, app.server.url);
  const written = tabs.map((_tab, t) =>
    Array.from({ length: 10 }, (_, i) => `tab ${t + 1}, message ${i + 1}`),
  );
  try {
    await Promise.all(
      tabs.map(async (tab, t) => {
        for (const text of written[t]!) {
          expect(await value<OutboxMessage>(tab, 'sendMessage', text)).toMatchObject({
            status: 'pending',
            text,
          });
        }
      }),
    );
    for (const tab of tabs) {
      await expect.poll(async () => (await shownOutbox(tab))?.length).toBe(30);
      const shown = (await shownOutbox(tab))!.map((message) => message.text);
      // Each tab's messages in the order it wrote them.
      for (const own of written) expect(shown.filter((text) => own.includes(text))).toEqual(own);
      expect(await eventsOf(tab, 'app:connectivity')).toContainEqual(
        expect.objectContaining({ detail: { online: false } }),
      );
    }
    expect((await readDatabase(tabs[0]!))?.outbox).toHaveLength(30);
  } finally {
    await back();
  }
  await expect.poll(async () => (await storedTexts(tabs[0]!)).length, { timeout: 15_000 }).toBe(30);
  const stored = await storedTexts(tabs[1]!);
  for (const own of written) expect(stored.filter((text) => own.includes(text))).toEqual(own);
  expect(new Set(stored).size).toBe(30);
  for (const tab of tabs) {
    await expect.poll(async () => (await shownOutbox(tab))?.length).toBe(0);
    expect((await eventsOf<{ online: boolean }>(tab, 'app:connectivity')).at(-1)?.detail.online).toBe(true);
  }
  expect((await readDatabase(tabs[0]!))?.outbox).toEqual([]);
});

test('R12: messages pending while the server is unreachable survive a reload of the tab and go out, in order, once it is back', async ({
  app,
  door,
}) => {
  const [tab] = await signedIn(app, 1);
  door.setFault(MESSAGES, { kind: 'cut' });
  for (const text of ['before the reload 1', 'before the reload 2']) {
    expect(await value(tab!, 'sendMessage', text)).toMatchObject({ status: 'pending' });
  }
  await reload(tab!);
  await signInAgain(app, [tab!]);
  const again = tab;
  expect((await value<OutboxMessage[]>(again!, 'listOutbox')).map((message) => message.text)).toEqual([
    'before the reload 1',
    'before the reload 2',
  ]);
  door.heal();
  // The next send goes behind the waiting ones, and takes them along.
  await value(again!, 'sendMessage', 'after the reload');
  await expect
    .poll(() => storedTexts(again!), { timeout: 10_000 })
    .toEqual(['before the reload 1', 'before the reload 2', 'after the reload']);
});

test('R12: every tab closed while offline, the app opened again online: the outbox is delivered, each message once', async ({
  app,
  context,
  browser,
  transport,
}) => {
  const tabs = await signedIn(app, 2);
  const back = await offline(context, browser, transport, app.server.url);
  try {
    for (const [t, tab] of tabs.entries()) {
      for (const i of [1, 2]) await value(tab, 'sendMessage', `tab ${t + 1}, before closing ${i}`);
    }
  } finally {
    for (const tab of tabs) await tab.close();
    await back();
  }
  const [reopened] = await signedIn(app, 1);
  await expect
    .poll(async () => (await storedTexts(reopened!)).sort(), { timeout: 15_000 })
    .toEqual([
      'tab 1, before closing 1',
      'tab 1, before closing 2',
      'tab 2, before closing 1',
      'tab 2, before closing 2',
    ]);
  const stored = await storedTexts(reopened!);
  expect(stored.indexOf('tab 1, before closing 1')).toBeLessThan(stored.indexOf('tab 1, before closing 2'));
  expect(stored.indexOf('tab 2, before closing 1')).toBeLessThan(stored.indexOf('tab 2, before closing 2'));
});

test('R7/R12: clearSession with messages queued sends none of them, and the outbox is empty', async ({
  app,
  door,
}) => {
  const tabs = await signedIn(app, 2);
  door.setFault(MESSAGES, { kind: 'cut' });
  for (const i of [1, 2, 3]) await value(tabs[0]!, 'sendMessage', `never sent ${i}`);
  await value(tabs[1]!, 'clearSession');
  expect((await readDatabase(tabs[0]!))?.outbox).toEqual([]);
  door.heal();
  // The same user again, online: the cleared session's messages stay unsent.
  await signInAgain(app, tabs);
  await value(tabs[0]!, 'startConversation');
  await value(tabs[0]!, 'sendMessage', 'after the logout');
  expect(await storedTexts(tabs[1]!)).toEqual(['after the logout']);
  // Of every post that reached the door, only that one went through.
  const passed = door
    .requests()
    .filter((r) => r.method === 'POST' && r.path.endsWith('/messages') && !r.fault);
  expect(passed).toHaveLength(1);
  expect(await value(tabs[0]!, 'listOutbox')).toEqual([]);
});

test('R12: the server answers 500, the message waits; once the server recovers it is stored once', async ({
  app,
  door,
}) => {
  const [tab, other] = await signedIn(app, 2);
  door.setFault(MESSAGES, { kind: 'fail', status: 500, code: 'ERR_TEST_FAULT' });
  expect(await value(tab!, 'sendMessage', 'during the outage')).toMatchObject({ status: 'pending' });
  await expect.poll(async () => (await shownOutbox(other!))?.map((m) => m.status)).toEqual(['pending']);
  door.heal();
  // The outbox's retry (1 s, then doubling) delivers it without another request.
  await expect.poll(() => storedTexts(other!), { timeout: 10_000 }).toEqual(['during the outage']);
  await expect.poll(async () => (await shownOutbox(other!))?.length).toBe(0);
});

test('R12: a 4xx for a waiting message marks it failed with its code in every tab; a retry delivers it', async ({
  app,
  door,
}) => {
  const [tab, other] = await signedIn(app, 2);
  door.setFault(MESSAGES, { kind: 'cut' });
  expect(await value(tab!, 'sendMessage', 'refused, then retried')).toMatchObject({ status: 'pending' });
  door.setFault(MESSAGES, { kind: 'fail', status: 422, code: 'ERR_CONVERSATION_ENDED' });
  await expect
    .poll(async () => (await shownOutbox(other!))?.map((m) => [m.status, m.error?.code]), { timeout: 10_000 })
    .toEqual([['failed', 'ERR_CONVERSATION_ENDED']]);
  const [failed] = await value<OutboxMessage[]>(tab!, 'listOutbox');
  door.heal();
  await value(other!, 'retryMessage', failed!.clientMessageId);
  await expect.poll(() => storedTexts(tab!), { timeout: 10_000 }).toEqual(['refused, then retried']);
  await expect.poll(async () => (await shownOutbox(tab!))?.length).toBe(0);
  expect(await eventsOf(tab!, 'app:message-delivered')).toContainEqual(
    expect.objectContaining({
      detail: { entry: expect.objectContaining({ text: 'refused, then retried' }) },
    }),
  );
});
