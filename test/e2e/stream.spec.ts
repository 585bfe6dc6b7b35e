// R12's one live stream per browser, and R14's authorization token kept out of the pages, in
// real Chromium, once per transport: however many tabs show the chat panel, the server sees one
// event stream; what it carries reaches every panel once; stopping whatever holds the stream (the
// service worker, the SharedWorker, the in-page leader's tab) or restarting the server loses
// nothing and shows nothing twice; no page API, event or message carries the authorization token.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { openFrontDoor } from '../../src/testing/front-door.ts';
import { startTestServer, type TestServer } from '../../src/testing/index.ts';
import { AppDriver, readDatabase, signIn, value, type ConversationEntry } from './app-driver.ts';
import { appDir, expect, test, type Transport } from './harness.ts';
import { inPageLeader, restartHost } from './workers.ts';

// Twenty tabs, each signed in with its panel open, are a few hundred worker and server round
// trips on two shared cores: more than the suite's default 30 s.
test.describe.configure({ timeout: 120_000 });
const SLOW = { timeout: 15_000 };

const chatPanel = (tab: Page) => tab.locator('tabwarden-chat-panel');
const conversationButton = (tab: Page) => tab.getByRole('button', { name: 'Chat with us' });

/** Event-stream requests the server received so far, and how many are open now. */
function streams(server: TestServer) {
  return {
    requested: server.requests().filter((r) => r.method === 'GET' && r.path.endsWith('/events')).length,
    open: server.server.openStreams,
  };
}

/** Signs `tabs` in as alice and opens each one's chat panel, all at once. */
async function openPanels(tabs: readonly Page[], token: string): Promise<void> {
  await Promise.all(
    tabs.map(async (tab) => {
      await signIn(tab, token);
      await conversationButton(tab).click();
      await expect(chatPanel(tab)).toHaveAttribute('open', SLOW);
    }),
  );
}

async function sendFromPanel(tab: Page, text: string): Promise<void> {
  await chatPanel(tab).getByRole('textbox', { name: 'Message' }).fill(text);
  await chatPanel(tab).getByRole('button', { name: 'Send' }).click();
}

/** The entries the tab's panel shows, as `role: text`, in order. */
function shown(tab: Page): Promise<string[]> {
  return chatPanel(tab)
    .locator('.entry')
    .evaluateAll((items) =>
      items.map((item) => `${[...item.classList].find((c) => c !== 'entry')}: ${item.textContent ?? ''}`),
    );
}

/** Waits until every tab's panel shows `count` entries, then checks they are one and the same list. */
async function expectSameEntries(tabs: readonly Page[], count: number): Promise<string[]> {
  for (const tab of tabs) await expect(chatPanel(tab).locator('.entry')).toHaveCount(count, SLOW);
  const first = await shown(tabs[0]!);
  for (const tab of tabs.slice(1)) expect(await shown(tab)).toEqual(first);
  return first;
}

/** The user messages the server stored, by text: each must be there once. */
async function storedTexts(tab: Page): Promise<string[]> {
  const entries = await value<ConversationEntry[]>(tab, 'listEntries', 0);
  return entries.filter((entry) => entry.role === 'user').map((entry) => entry.text);
}

test('R12: 20 tabs with the chat panel open: one stream for the browser at 1, 10 and 20 tabs; messages from the first and the last tab stored once, every reply in all 20', async ({
  app,
  testServer,
}) => {
  const tabs = await app.open(20, { kind: 'app', query: { ui: 1 } });
  const token = await app.mint('alice');

  await openPanels(tabs.slice(0, 1), token);
  await expect.poll(() => streams(testServer).open, SLOW).toBe(1);
  await openPanels(tabs.slice(1, 10), token);
  expect(streams(testServer)).toEqual({ requested: 1, open: 1 });
  await openPanels(tabs.slice(10), token);
  expect(streams(testServer)).toEqual({ requested: 1, open: 1 });

  await sendFromPanel(tabs[0]!, 'Hello from the first tab');
  await sendFromPanel(tabs[19]!, 'Hello from the last tab');
  const entries = await expectSameEntries(tabs, 4);
  expect(entries.filter((entry) => entry.startsWith('agent:'))).toHaveLength(2);
  expect((await storedTexts(tabs[5]!)).sort()).toEqual([
    'Hello from the first tab',
    'Hello from the last tab',
  ]);
  // The replies came on the one stream: still one, never reopened.
  expect(streams(testServer)).toEqual({ requested: 1, open: 1 });
});

test('R12: a tab without the chat panel receives no entries and opens no stream', async ({
  app,
  testServer,
}) => {
  const [withPanel, without] = await app.open(2, { kind: 'app', query: { ui: 1 } });
  const token = await app.mint('alice');
  await openPanels([withPanel!], token);
  await signIn(without!, token);
  await without!.evaluate(() => {
    const tw = window.app.tw as EventTarget;
    (window as unknown as { entriesHeard: number }).entriesHeard = 0;
    tw.addEventListener('entries', () => (window as unknown as { entriesHeard: number }).entriesHeard++);
  });
  await sendFromPanel(withPanel!, 'Only the panel hears this');
  await expect(chatPanel(withPanel!).locator('.entry.agent')).toHaveCount(1, SLOW);
  expect(await without!.evaluate(() => (window as unknown as { entriesHeard: number }).entriesHeard)).toBe(0);
  expect(streams(testServer)).toEqual({ requested: 1, open: 1 });
});

/** What holds the stream on each transport, and how it is lost. */
const HOLDER: Record<Transport, string> = {
  'service-worker': 'the service worker stopped',
  'shared-worker': 'the SharedWorker ended',
  'in-page': "the leader's tab, which holds the stream, closed",
};

test.describe('while the worker holds a reply in flight', () => {
  // The agent answers while the stream's holder is gone: the reply is written with no one
  // reading, and must still reach every panel once.
  test.use({ serverOptions: { agentReplyDelayMs: 1_500 } });

  test('R10/R12: the holder of the stream lost during a stream: nothing lost, nothing shown twice', async ({
    app,
    transport,
    browser,
    testServer,
  }, testInfo) => {
    testInfo.annotations.push({ type: 'holder', description: HOLDER[transport] });
    let tabs = await app.open(3, { kind: 'app', query: { ui: 1 } });
    await openPanels(tabs, await app.mint('alice'));
    await sendFromPanel(tabs[0]!, 'Before the loss');
    await expectSameEntries(tabs, 2);

    // On in-page the leader is the first tab: send from one that stays.
    const survivor = transport === 'in-page' ? tabs[2]! : tabs[0]!;
    await sendFromPanel(survivor, 'Reply to this while the holder is gone');
    await expect(chatPanel(survivor).locator('.entry.user')).toHaveCount(2, SLOW);
    tabs = await restartHost(transport, tabs, browser, testServer.url);

    // The reply is committed while nothing reads the stream; it arrives once the holder is back.
    await expectSameEntries(tabs, 4);
    await sendFromPanel(tabs[tabs.length - 1]!, 'After the loss');
    const entries = await expectSameEntries(tabs, 6);
    expect(entries.filter((entry) => entry.startsWith('user:'))).toHaveLength(3);
    expect(await storedTexts(tabs[0]!)).toEqual([
      'Before the loss',
      'Reply to this while the holder is gone',
      'After the loss',
    ]);
  });
});

test('R12: the server restarted during a stream: nothing lost, nothing shown twice', async ({
  context,
  transport,
}) => {
  // A server on a data folder of its own, behind a front door: the browser keeps one origin while the
  // server behind it stops and starts again on the same database.
  const dataDir = mkdtempSync(join(tmpdir(), 'tabwarden-stream-restart-'));
  const options = { staticDir: appDir, dataDir, database: join(dataDir, 'tabwarden.sqlite') };
  let server = await startTestServer(options);
  const door = await openFrontDoor(server.url);
  try {
    const app = new AppDriver(context, { ...server, url: door.url }, transport);
    const tabs = await app.open(2, { kind: 'app', query: { ui: 1 } });
    await openPanels(tabs, await app.mint('alice'));
    await sendFromPanel(tabs[0]!, 'Before the restart');
    await expectSameEntries(tabs, 2);

    await server.close();
    server = await startTestServer(options);
    door.retarget(server.url);
    // Sent at once: it may be stored before the worker's stream reconnects (Last-Event-ID).
    await sendFromPanel(tabs[1]!, 'After the restart');
    const entries = await expectSameEntries(tabs, 4);
    expect(entries.filter((entry) => entry.startsWith('user:'))).toHaveLength(2);
    expect(await storedTexts(tabs[0]!)).toEqual(['Before the restart', 'After the restart']);
    await expect.poll(() => streams(server).open, SLOW).toBe(1);
  } finally {
    await door.close();
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

// Records, before any page script runs, everything a page receives as a message (ports, the
// service worker, BroadcastChannels) and every event of the tabwarden client, as text.
function recordEverythingReceived(): void {
  const seen: string[] = [];
  (window as unknown as { received: string[] }).received = seen;
  const note = (data: unknown) => {
    try {
      seen.push(JSON.stringify(data) ?? String(data));
    } catch {
      seen.push(String(data));
    }
  };
  const add = EventTarget.prototype.addEventListener;
  EventTarget.prototype.addEventListener = function (this: EventTarget, type, listener, options) {
    if (type === 'message' && listener) {
      const wrapped = (event: Event) => {
        note((event as MessageEvent).data);
        return typeof listener === 'function' ? listener.call(this, event) : listener.handleEvent(event);
      };
      return add.call(this, type, wrapped, options);
    }
    if (listener && !(this instanceof Node) && this !== window) {
      // The client's own events (a TypedEventTarget): their detail is what the app sees.
      add.call(this, type, (event) => note({ type, detail: (event as CustomEvent).detail }), options);
    }
    return add.call(this, type, listener, options);
  };
  for (const proto of [MessagePort.prototype, BroadcastChannel.prototype, ServiceWorkerContainer.prototype]) {
    const descriptor = Object.getOwnPropertyDescriptor(proto, 'onmessage');
    if (!descriptor?.set) continue;
    Object.defineProperty(proto, 'onmessage', {
      ...descriptor,
      set(this: EventTarget, handler: ((event: MessageEvent) => unknown) | null) {
        descriptor.set!.call(
          this,
          handler &&
            ((event: MessageEvent) => {
              note(event.data);
              return handler.call(this, event);
            }),
        );
      },
    });
  }
}

test('R14: no page API, event or message carries the authorization token; no page request sends one', async ({
  app,
  context,
  transport,
}) => {
  await context.addInitScript(recordEverythingReceived);
  const pageRequests: Array<{ tab: Page | undefined; headers: string }> = [];
  context.on('request', (request) => {
    // Requests of the pages themselves: a service worker's own fetches are not the page's.
    if (request.serviceWorker()) return;
    pageRequests.push({ tab: request.frame().page(), headers: JSON.stringify(request.headers()) });
  });
  const tabs = await app.open(3, { kind: 'app', query: { ui: 1 } });
  await openPanels(tabs, await app.mint('alice'));
  // Everything the API answers, beside what arrives on its own.
  const answers: unknown[] = [];
  for (const tab of tabs) {
    answers.push(await value(tab, 'startConversation'));
    answers.push(await value(tab, 'sendMessage', 'Anything with a token in it?'));
    answers.push(await value(tab, 'listEntries', 0));
    answers.push(await tab.evaluate(() => window.app.state()));
  }
  await expectSameEntries(tabs, 6);
  const accessToken = (await readDatabase(tabs[0]!))?.session[0]?.accessToken;
  expect(accessToken, 'the worker holds an authorization token').toMatch(/^ey/);
  const signature = accessToken!.split('.')[2]!;

  // On in-page the leader tab hosts the engine and necessarily holds the token (README); no
  // other tab may see it.
  const leader = transport === 'in-page' ? await inPageLeader(tabs) : undefined;
  for (const tab of tabs.filter((tab) => tab !== leader)) {
    const received = await tab.evaluate(() =>
      (window as unknown as { received: string[] }).received.join('\n'),
    );
    expect(received.length, 'the recorder saw the traffic').toBeGreaterThan(100);
    expect(received.includes(signature), `a message or event in ${tab.url()} carries the token`).toBe(false);
  }
  expect(JSON.stringify(answers).includes(signature)).toBe(false);
  for (const { tab, headers } of pageRequests) {
    if (tab !== leader) expect(headers.includes(signature), `a request of ${tab?.url()}`).toBe(false);
  }
});
