// Where the chat panel's log stays as entries arrive, in real Chromium, once per transport: at the
// end while the reader is there, where the reader scrolled to otherwise, and at the end again
// once the reader sends. The panel keeps this without a layout read per entry (it tracks the
// log's scroll events and scrolls in the next frame).
import type { Page } from '@playwright/test';
import { appUrl, expect, test } from './kit-app.ts';

const panel = (tab: Page) => tab.locator('tabwarden-chat-panel');
const log = (tab: Page) => panel(tab).getByRole('list', { name: 'Messages' });

/** Whether the log shows its end (to a pixel), where it is scrolled to, and whether it overflows. */
const scrollState = (tab: Page) =>
  log(tab).evaluate((list) => ({
    atEnd: list.scrollHeight - list.scrollTop - list.clientHeight < 1,
    top: list.scrollTop,
    overflows: list.scrollHeight > list.clientHeight,
  }));

test('R12: the chat panel keeps the newest entry in view, keeps a reader who scrolled back in place, and shows a sent message', async ({
  tabs,
  identityProvider,
  events,
}) => {
  const [reader, writer] = await tabs.open(2, { url: appUrl(tabs, { kind: 'app', query: { ui: 1 } }) });
  const token = await identityProvider.mint('alice');
  for (const tab of [reader!, writer!]) await tabs.signIn(tab, token);
  await reader!.getByRole('button', { name: 'Chat with us' }).click();
  await expect(panel(reader!)).toHaveAttribute('open');
  await events.wait(reader!, 'app:session-started');
  const entries = log(reader!).locator('.entry');
  const before = await entries.count();

  // Another tab's messages and the agent's replies fill the reader's log past its height.
  for (let i = 1; i <= 12; i++) await tabs.call(writer!, 'sendMessage', `line ${i}`);
  // Stored, each of them: none still shows as waiting in the outbox.
  await expect(entries).toHaveCount(before + 24);
  await expect(log(reader!).locator('.entry.pending')).toHaveCount(0);
  await expect.poll(() => scrollState(reader!)).toMatchObject({ overflows: true, atEnd: true });

  // Scrolled back to read: a new entry does not move the log.
  await log(reader!).evaluate((list) => list.scrollTo({ top: 0 }));
  await expect.poll(() => scrollState(reader!)).toMatchObject({ top: 0 });
  await tabs.call(writer!, 'sendMessage', 'line 13');
  await expect(entries).toHaveCount(before + 26);
  // Two frames: a scroll the panel would have asked for is done by then.
  await reader!.evaluate(
    () => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))),
  );
  expect((await scrollState(reader!)).top).toBe(0);

  // The reader's own message brings the end back into view.
  const box = panel(reader!).getByRole('textbox', { name: 'Message' });
  await box.fill('back to the end');
  await box.press('Enter');
  await expect(log(reader!).locator('.entry.user').last()).toContainText('back to the end');
  await expect.poll(() => scrollState(reader!)).toMatchObject({ atEnd: true });

  // A tab opened later opens its panel at the end of the log, the whole history loaded.
  const [latecomer] = await tabs.open(1, { url: appUrl(tabs, { kind: 'app', query: { ui: 1 } }) });
  await tabs.signIn(latecomer!, token);
  await latecomer!.getByRole('button', { name: 'Chat with us' }).click();
  await expect(log(latecomer!).locator('.entry')).toHaveCount(before + 28);
  await expect.poll(() => scrollState(latecomer!)).toMatchObject({ overflows: true, atEnd: true });
});
