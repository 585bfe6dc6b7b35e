import { expect, test } from '@playwright/test';
import { startTestServer, type TestServer } from 'tabwarden/testing';

let server: TestServer;
test.beforeEach(async () => {
  // The built app (vite build) at /, the reference server's API and demo identity provider beside it.
  server = await startTestServer({ staticDir: 'dist' });
});
test.afterEach(async () => {
  await server.close();
});

test('the built app signs in, chats through the service worker the plugin emitted, and signs out in every tab', async ({
  context,
}) => {
  const tab = await context.newPage();
  await tab.goto(`${server.url}/`);
  await expect(tab.getByRole('status')).toHaveText('Signed out');
  expect(await tab.evaluate(() => navigator.serviceWorker.controller?.scriptURL)).toMatch(
    /\/tabwarden-sw\.js\?config=/,
  );

  await tab.getByLabel('Name').fill('alice');
  await tab.getByRole('button', { name: 'Sign in' }).click();
  await expect(tab.getByRole('status')).toHaveText('Signed in as alice');

  await tab.getByRole('button', { name: /chat with us/i }).click();
  await tab.getByRole('textbox', { name: 'Message' }).fill('Hello from Vite');
  await tab.keyboard.press('Enter');
  await expect(
    tab.getByRole('list', { name: 'Messages' }).getByText('Thanks, I got your message: "Hello from Vite"'),
  ).toBeVisible();

  const other = await context.newPage();
  await other.goto(`${server.url}/`);
  await expect(other.getByRole('status')).toHaveText('Signed out');
  await tab.getByRole('button', { name: 'Sign out' }).click();
  await expect(tab.getByRole('status')).toHaveText('Signed out (logout)');
  await expect(other.getByRole('status')).toHaveText('Signed out (logout)');
});
