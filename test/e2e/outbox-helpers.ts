// The outbox specs' shared setup (outbox.spec.ts, outbox.service-worker.spec.ts): the app served
// through a front door that can fail or cut one route, every tab and worker offline, signed-in tabs.
import type { Browser, BrowserContext, Page } from '@playwright/test';
import { eventsOf, goOffline, goOnline } from '../../src/testing/index.ts';
import { openFrontDoor, type FrontDoor } from '../../src/testing/front-door.ts';
import { AppDriver, signIn, value, type ConversationEntry } from './app-driver.ts';
import { test as base, type Transport } from './harness.ts';
import { takeSharedWorkersOffline } from './workers.ts';

export { expect } from './harness.ts';

export const test = base.extend<{ door: FrontDoor }>({
  door: async ({ testServer }, use) => {
    const door = await openFrontDoor(testServer.url);
    try {
      await use(door);
    } finally {
      await door.close();
    }
  },
  // The app is served through the front door, so that a test can fail or cut one route.
  app: async ({ context, testServer, transport, door }, use) => {
    await use(new AppDriver(context, { ...testServer, url: door.url }, transport));
  },
});

export const MESSAGES = 'POST /v1/conversations/:id/messages';

export interface OutboxMessage {
  status: 'pending' | 'failed';
  clientMessageId: string;
  text: string;
  error?: { code: string };
}

/** Every tab and worker offline; resolves the function that brings them back. */
export async function offline(context: BrowserContext, browser: Browser, transport: Transport, url: string) {
  await goOffline(context);
  // goOffline does not reach a SharedWorker's fetches in Chromium; cut it off as well.
  const reconnect = transport === 'shared-worker' ? await takeSharedWorkersOffline(browser, url) : undefined;
  return async () => {
    // A SharedWorker that ended with its last tab has no network left to restore.
    await reconnect?.().catch(() => undefined);
    await goOnline(context);
  };
}

/** `count` tabs of the module-API app, signed in as alice, sharing a started conversation. */
export async function signedIn(app: AppDriver, count: number): Promise<Page[]> {
  const tabs = await app.open(count, { kind: 'app' });
  await signInAgain(app, tabs);
  await value(tabs[0]!, 'startConversation');
  return tabs;
}

/** Signs `tabs` in as alice (after a reload, after a clear). */
export async function signInAgain(app: AppDriver, tabs: Page[]): Promise<void> {
  const token = await app.mint('alice');
  for (const tab of tabs) await signIn(tab, token);
}

/** The user entries the server stored, read online from `tab`. */
export async function storedTexts(tab: Page): Promise<string[]> {
  const entries = await value<ConversationEntry[]>(tab, 'listEntries', 0);
  return entries.filter((entry) => entry.role === 'user').map((entry) => entry.text);
}

/** The outbox the tab was last shown (its `outbox` events). */
export async function shownOutbox(tab: Page): Promise<OutboxMessage[] | undefined> {
  const events = await eventsOf<{ messages: OutboxMessage[] }>(tab, 'app:outbox');
  return events.at(-1)?.detail.messages;
}
