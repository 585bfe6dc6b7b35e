// The machine asleep past both expiries, waking with ten tabs whose app supplies tokens through
// identityTokenProvider (R3, R5, R6): the first interaction after waking costs one provider call
// and one exchange in all, not one per tab. Through the test kit's clock, so the sleep costs no
// real time.
import type { Page } from '@playwright/test';
import { expect, test } from './kit-app.ts';

test.use({ appQuery: { provider: 'alice' } });
// Ten tabs open one after the other: more than the default 30 s on a loaded two-core machine.
test.setTimeout(60_000);

const providerCalls = async (tabs: readonly Page[]) =>
  (await Promise.all(tabs.map((tab) => tab.evaluate(() => window.app.providerCalls)))).reduce(
    (a, b) => a + b,
    0,
  );

test('R3/R6: ten tabs waking after both expiries make one provider call and one exchange, no stampede', async ({
  tabs,
  clock,
  server,
  events,
}) => {
  const open = await tabs.open(10);
  // Each tab verifies by itself when ready (R3): one provider call each.
  for (const tab of open) await events.wait(tab, 'app:verified');
  expect(await providerCalls(open)).toBe(10);
  await tabs.call(open[0]!, 'startConversation');
  const exchangesBefore = server.count('POST /v1/authorization');

  // Asleep past the 10-minute identity token and the 1-minute authorization token.
  await clock.fastForward('10:01');
  await tabs.call(open[5]!, 'sendMessage', 'after waking');

  // Every tab ends with the one new token: refreshed in the nine that did not fetch it.
  for (const tab of open) await expect.poll(async () => (await tabs.state(tab)).verified).toBe(true);
  expect(await providerCalls(open)).toBe(11);
  expect(server.count('POST /v1/authorization') - exchangesBefore).toBe(1);
});
