// R10 for a service worker's own lifecycle: a new version of the worker script takes over
// mid-session (skipWaiting + clients.claim) and restores everything from IndexedDB.
import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signIn, stateOf, value, type ConversationEntry } from './app-driver.ts';
import { expect, test } from './harness.ts';

// A copy of the bundles, so this test can change the worker script without touching dist/.
const bundlesDir = mkdtempSync(join(tmpdir(), 'tabwarden-bundles-'));
cpSync('dist/bundles', bundlesDir, { recursive: true });
test.use({ serverOptions: { bundlesDir } });
test.afterAll(() => rmSync(bundlesDir, { recursive: true, force: true }));

test('R10: a new version of the service worker takes over mid-session; the session and the conversation go on', async ({
  app,
}) => {
  const tabs = await app.open(2);
  const token = await app.mint('alice');
  for (const tab of tabs) await signIn(tab, token);
  const { conversationId } = await value<{ conversationId: string }>(tabs[0]!, 'startConversation');
  await value(tabs[0]!, 'sendMessage', 'before the update');

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

  const sent = await value<ConversationEntry>(tabs[1]!, 'sendMessage', 'after the update');
  expect(sent.conversationId).toBe(conversationId);
  for (const tab of tabs) expect(await stateOf(tab)).toMatchObject({ verified: true, conversationId });
  const texts = (await value<ConversationEntry[]>(tabs[0]!, 'listEntries', 0))
    .filter((entry) => entry.role === 'user')
    .map((entry) => entry.text);
  expect(texts).toEqual(['before the update', 'after the update']);
  expect(app.server.exchangeCount()).toBe(1);
});
