// The conversation button (the UI bundle, /bundles/tabwarden-ui.js) in real Chromium, once per
// transport: it shows only in a tab that presented a valid token itself (R2, R3), five clicks at
// once make one exchange (R4), and a logout anywhere removes it everywhere (R7).
import type { Page } from '@playwright/test';
import { eventsOf, waitForEvent } from '../../src/testing/index.ts';
import { call, facadeSetIdentityToken, reload, signIn } from './app-driver.ts';
import { expect, test } from './harness.ts';

const conversationButton = (tab: Page) => tab.getByRole('button', { name: 'Chat with us' });

test('R2/R3: a valid token shows the conversation button in that tab only; no token or a bad one shows none; a reload hides it', async ({
  app,
}) => {
  // seed.html: the UI mounts itself for the facade's client.
  const [signedIn, other, rejected] = await app.open(3, { query: { ui: 1 } });
  const token = await app.mint('alice');

  expect(await facadeSetIdentityToken(signedIn!, token)).toBe(true);
  await waitForEvent(signedIn!, 'onEmbeddedMessagingButtonCreated');
  await expect(conversationButton(signedIn!)).toBeVisible();

  const forged = `${token.slice(0, token.lastIndexOf('.'))}.${'A'.repeat(342)}`;
  expect(await facadeSetIdentityToken(rejected!, forged)).toBe(true);
  await waitForEvent(rejected!, 'onEmbeddedMessagingIdentityTokenRejected');
  for (const tab of [other!, rejected!]) {
    await expect(conversationButton(tab)).toHaveCount(0);
    expect(await eventsOf(tab, 'onEmbeddedMessagingButtonCreated')).toHaveLength(0);
  }

  await reload(signedIn!);
  await expect(conversationButton(signedIn!)).toHaveCount(0);
  expect(await facadeSetIdentityToken(signedIn!, token)).toBe(true);
  await waitForEvent(signedIn!, 'onEmbeddedMessagingButtonCreated');
  await expect(conversationButton(signedIn!)).toBeVisible();
});

test('R4/R7: five tabs click the button at once: one exchange; a logout in one tab removes the button everywhere', async ({
  app,
}) => {
  // app.html: the module API page mounts the UI itself (mountTabwardenUI).
  const tabs = await app.open(5, { kind: 'app', query: { ui: 1 } });
  const token = await app.mint('alice');
  for (const tab of tabs) {
    await signIn(tab, token);
    await expect(conversationButton(tab)).toBeVisible();
  }

  await Promise.all(tabs.map((tab) => conversationButton(tab).click()));
  for (const tab of tabs) await waitForEvent(tab, 'app:session-started');
  expect(app.server.exchangeCount()).toBe(1);
  expect(app.server.requestCount('POST', '/v1/conversations')).toBe(1);

  // Logout through the module API of tab 3.
  expect(await call(tabs[2]!, 'clearSession')).toMatchObject({ ok: true });
  for (const tab of tabs) {
    await waitForEvent(tab, 'app:session-cleared');
    await expect(conversationButton(tab)).toHaveCount(0);
  }
});
