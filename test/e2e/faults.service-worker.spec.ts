// Fault injection for a service worker's own lifecycle (R10): a new version of the worker script
// takes over (skipWaiting + clients.claim) while a call is on the wire, so two versions run at
// once — the old one finishing its exchange, the new one controlling the tabs. Counted like the
// cases of faults.spec.ts (lost, duplicated, hung), for `npm run soak` too.
import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { call, signIn, start, type ConversationEntry } from './app-driver.ts';
import { expectNoHarm, settledWithin, test, expect, EXCHANGE, RECOVERY_BOUND_MS } from './fault-harness.ts';

// A copy of the bundles, so this file can change the worker script without touching dist/.
const bundlesDir = mkdtempSync(join(tmpdir(), 'tabwarden-bundles-'));
cpSync('dist/bundles', bundlesDir, { recursive: true });
test.use({ serverOptions: { bundlesDir } });
// Removed when the worker process ends (a Playwright worker may run this file's test again).
process.once('exit', () => rmSync(bundlesDir, { recursive: true, force: true }));

/** Makes the next version of the worker script take over, and waits until every tab saw it. */
async function updateWorker(tabs: Page[], version: number): Promise<void> {
  const changed = tabs.map((tab) =>
    tab.evaluate(
      () =>
        new Promise<void>((resolve) =>
          navigator.serviceWorker.addEventListener('controllerchange', () => resolve(), { once: true }),
        ),
    ),
  );
  // A byte-different script is a new version for the browser.
  appendFileSync(join(bundlesDir, 'tabwarden-sw.js'), `\n// version ${version}\n`);
  await tabs[0]!.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.update());
  await Promise.all(changed);
}

let versions = 0;

test('R10: a new worker version takes over while the exchange is on the wire: the start is answered once, promptly', async ({
  app,
  faults,
}) => {
  const tabs = await app.open(2);
  const [caller, other] = tabs as [Page, Page];
  const token = await app.mint('alice');
  for (const tab of tabs) await signIn(tab, token);
  const exchange = faults.inject('POST', EXCHANGE, 'hold');
  await start(caller, 'starting', 'startConversation');
  await exchange.arrived();
  const fault = Date.now();
  await updateWorker(tabs, ++versions);
  exchange.release();
  const outcome = await settledWithin<{ conversationId: string }>(caller, 'starting', RECOVERY_BOUND_MS);
  const recoveryMs = Date.now() - fault;
  const started = outcome?.ok ? outcome.value.conversationId : undefined;
  const sent = await call<ConversationEntry>(other, 'sendMessage', 'after the update');
  expectNoHarm({
    lost: outcome?.ok === false || !sent.ok ? 1 : 0,
    // A second conversation would be a duplicated start.
    duplicated: sent.ok && started !== undefined && sent.value.conversationId !== started ? 1 : 0,
    hung: outcome === undefined ? 1 : 0,
    recoveryMs,
  });
  // The old version's exchange and the new one's: not more.
  expect(app.server.exchangeCount()).toBeLessThanOrEqual(2);
});
