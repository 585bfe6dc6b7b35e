// R10 for a service worker's own lifecycle: a new version of the worker script takes over
// mid-session (skipWaiting + clients.claim) and restores everything from IndexedDB.
import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitForEvent } from '../../src/testing/index.ts';
import { call, facadeClearSession, signIn, stateOf, value, type ConversationEntry } from './app-driver.ts';
import type { Page } from '@playwright/test';
import { expect, test } from './harness.ts';

// A copy of the bundles, so this test can change the worker script without touching dist/.
const bundlesDir = mkdtempSync(join(tmpdir(), 'tabwarden-bundles-'));
cpSync('dist/bundles', bundlesDir, { recursive: true });
test.use({ serverOptions: { bundlesDir } });
// Removed when the worker process ends, not in afterAll: with fully parallel tests a worker runs
// afterAll after each test it ran, and may then run another test of this file (module not reloaded).
process.once('exit', () => rmSync(bundlesDir, { recursive: true, force: true }));

/** Makes the next version of the worker script take over, and waits until every tab saw it. */
async function updateWorker(tabs: Page[]): Promise<void> {
  for (const tab of tabs) {
    await tab.evaluate(() => {
      const flags = window as unknown as { controllerChanged: Promise<void> };
      flags.controllerChanged = new Promise<void>((resolve) =>
        navigator.serviceWorker.addEventListener('controllerchange', () => resolve(), { once: true }),
      );
    });
  }
  // A byte-different script is a new version for the browser.
  appendFileSync(join(bundlesDir, 'tabwarden-sw.js'), '\n// the next version\n');
  await tabs[0]!.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.update());
  for (const tab of tabs) {
    await tab.evaluate(() => (window as unknown as { controllerChanged: Promise<void> }).controllerChanged);
  }
}

test('R10: a new version of the service worker takes over mid-session; the session and the conversation go on', async ({
  app,
}) => {
  const tabs = await app.open(2);
  const token = await app.mint('alice');
  for (const tab of tabs) await signIn(tab, token);
  const { conversationId } = await value<{ conversationId: string }>(tabs[0]!, 'startConversation');
  await value(tabs[0]!, 'sendMessage', 'before the update');

  await updateWorker(tabs);

  const sent = await value<ConversationEntry>(tabs[1]!, 'sendMessage', 'after the update');
  expect(sent.conversationId).toBe(conversationId);
  for (const tab of tabs) expect(await stateOf(tab)).toMatchObject({ verified: true, conversationId });
  const texts = (await value<ConversationEntry[]>(tabs[0]!, 'listEntries', 0))
    .filter((entry) => entry.role === 'user')
    .map((entry) => entry.text);
  expect(texts).toEqual(['before the update', 'after the update']);
  expect(app.server.exchangeCount()).toBe(1);
});

test('R10/R7: after a new version took over, a logout in one tab still clears a tab idle since', async ({
  app,
}) => {
  const [active, idle] = (await app.open(2)) as [Page, Page];
  const token = await app.mint('alice');
  for (const tab of [active, idle]) await signIn(tab, token);
  await value(active, 'startConversation');

  await updateWorker([active, idle]);
  // The idle tab makes no call: the new worker knows it only because it asked every tab it took
  // over to reconnect.
  expect(await facadeClearSession(active)).toEqual({ ok: true });
  const cleared = await waitForEvent<{ reason: string }>(idle, 'tabwarden:session-cleared', {
    timeoutMs: 5_000,
  });
  expect(cleared.detail).toEqual({ reason: 'logout' });
  expect(await stateOf(idle)).toMatchObject({ verified: false });
  expect(await call(idle, 'listEntries', 0)).toMatchObject({ ok: false, code: 'ERR_NOT_VERIFIED' });
});
