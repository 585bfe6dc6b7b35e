// The conversation button (the UI bundle, /bundles/tabwarden-ui.js) in real Chromium, once per
// transport: it shows only in a tab that presented a valid token itself (R2, R3), five clicks at
// once make one exchange (R4), and a logout anywhere removes it everywhere (R7).
import type { Page } from '@playwright/test';
import { facadeSetIdentityToken, reload } from './app-driver.ts';
import { appUrl, expect, test } from './kit-app.ts';

const conversationButton = (tab: Page) => tab.getByRole('button', { name: 'Chat with us' });

test('R2/R3: a valid token shows the conversation button in that tab only; no token or a bad one shows none; a reload hides it', async ({
  tabs,
  identityProvider,
  events,
}) => {
  // seed.html: the UI mounts itself for the facade's client.
  const [signedIn, other, rejected] = await tabs.open(3, { url: appUrl(tabs, { query: { ui: 1 } }) });
  const token = await identityProvider.mint('alice');

  expect(await facadeSetIdentityToken(signedIn, token)).toBe(true);
  await events.wait(signedIn, 'onEmbeddedMessagingButtonCreated');
  await expect(conversationButton(signedIn)).toBeVisible();

  const forged = `${token.slice(0, token.lastIndexOf('.'))}.${'A'.repeat(342)}`;
  expect(await facadeSetIdentityToken(rejected, forged)).toBe(true);
  await events.wait(rejected, 'onEmbeddedMessagingIdentityTokenRejected');
  for (const tab of [other, rejected]) {
    await expect(conversationButton(tab)).toHaveCount(0);
    await expect(tab).not.toHaveDispatched('onEmbeddedMessagingButtonCreated', { timeout: 0 });
  }

  await reload(signedIn);
  await expect(conversationButton(signedIn)).toHaveCount(0);
  expect(await facadeSetIdentityToken(signedIn, token)).toBe(true);
  await events.wait(signedIn, 'onEmbeddedMessagingButtonCreated');
  await expect(conversationButton(signedIn)).toBeVisible();
});

test('R4/R7: five tabs click the button at once: one exchange; a logout in one tab removes the button everywhere', async ({
  tabs,
  server,
  identityProvider,
  events,
}) => {
  // app.html: the module API page mounts the UI itself (mountTabwardenUI).
  const open = await tabs.open(5, { url: appUrl(tabs, { kind: 'app', query: { ui: 1 } }) });
  const token = await identityProvider.mint('alice');
  for (const tab of open) {
    await tabs.signIn(tab, token);
    await expect(conversationButton(tab)).toBeVisible();
  }

  await Promise.all(open.map((tab) => conversationButton(tab).click()));
  for (const tab of open) await events.wait(tab, 'app:session-started');
  expect(server.count('POST /v1/authorization')).toBe(1);
  expect(server.count('POST /v1/conversations')).toBe(1);

  // Logout through the module API of tab 3.
  await tabs.call(open[2]!, 'clearSession');
  for (const tab of open) {
    await events.wait(tab, 'app:session-cleared');
    await expect(conversationButton(tab)).toHaveCount(0);
  }
});
