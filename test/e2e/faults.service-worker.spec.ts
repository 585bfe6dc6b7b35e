// R10 under injected faults, service worker only: the browser stops the worker while a call is
// in flight. The page must learn of the death at once (not from the call's own time limit), re-send,
// and the call must take effect once.
import type { BrowserContext, Route } from '@playwright/test';
import { stopServiceWorker } from '../../src/testing/index.ts';
import { settled, signIn, start, value, type ConversationEntry } from './app-driver.ts';
import { expect, test } from './harness.ts';

/** Holds every `POST /v1/authorization` the worker makes until `release()`; `arrived` resolves at the first. */
async function holdExchanges(context: BrowserContext) {
  let release = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  let arrivedOnce = () => {};
  const arrived = new Promise<void>((resolve) => (arrivedOnce = resolve));
  await context.route('**/v1/authorization', async (route: Route) => {
    if (route.request().method() !== 'POST') return route.continue();
    arrivedOnce();
    await released;
    await route.continue().catch(() => undefined);
  });
  return { arrived, release };
}

test('R10: a start in flight when the worker is stopped is re-sent at once and answered in seconds, not after its time limit', async ({
  app,
}) => {
  test.setTimeout(90_000);
  const [tab] = await app.open(1);
  await signIn(tab!, await app.mint('alice'));
  const hold = await holdExchanges(app.context);
  await start(tab!, 'starting', 'startConversation');
  await hold.arrived;
  const stopped = Date.now();
  await stopServiceWorker(tab!);
  hold.release();
  const outcome = await settled<{ conversationId: string }>(tab!, 'starting');
  const tookMs = Date.now() - stopped;
  test.info().annotations.push({ type: 'stop -> answer', description: `${tookMs} ms` });
  expect(outcome).toMatchObject({ ok: true });
  expect(tookMs).toBeLessThan(5_000);
  const sent = await value<ConversationEntry>(tab!, 'sendMessage', 'after the stop');
  expect(sent.conversationId).toBe((outcome as { value: { conversationId: string } }).value.conversationId);
});
