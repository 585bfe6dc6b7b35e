// docs/testing.md's first test, as written there (npm test checks they stay the same).
import { test, expect } from '@playwright/test';
import { collectEvents, openTabs, startTestServer, waitForEvent, type TestServer } from 'tabwarden/testing';

let server: TestServer;
test.beforeEach(async () => {
  server = await startTestServer({ staticDir: 'dist/app' });
});
test.afterEach(async () => {
  await server.close();
});

test('signing in shows the conversation button in that tab only', async ({ context }) => {
  await collectEvents(context); // before the tabs load: it records from their first script on
  const [signedIn, other] = await openTabs(context, 2, `${server.url}/`);
  await Promise.all([signedIn, other].map((tab) => waitForEvent(tab!, 'onEmbeddedMessagingReady')));

  const identityToken = await server.mintIdentityToken({ sub: 'alice', expiresInSeconds: 600 });
  const accepted = await signedIn!.evaluate(
    (identityToken) =>
      window.embeddedservice_bootstrap.userVerificationAPI.setIdentityToken({
        identityTokenType: 'JWT',
        identityToken,
      }),
    identityToken,
  );
  expect(accepted).toBe(true);

  await waitForEvent(signedIn!, 'onEmbeddedMessagingButtonCreated');
  await expect(signedIn!.getByRole('button', { name: /chat with us/i })).toBeVisible();
  await expect(other!.getByRole('button', { name: /chat with us/i })).toHaveCount(0);
});
