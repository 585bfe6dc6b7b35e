// The demo portal (public/) as a visitor uses it, in real Chromium: its own login is a cookie
// session every tab shares, so a tab opened later presents a token by itself
// (identityTokenProvider) and shows the conversation with no click (R3); a timeline shows every
// tab's events; a sign-out in one tab clears every tab and the app's session (R7); the chat
// panel's timestamps stay readable in light and dark.
//
// Set TABWARDEN_PORTAL_SCREENSHOT=docs/portal.png to write the README's screenshot.
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from '@playwright/test';
import { MESSAGE_TEXT_LIMIT } from '../../src/core/message-rules.ts';
import { DEMO_SESSION_COOKIE } from '../../src/server/demo-login.ts';
import { contrastRatio, renderedColours } from './contrast.ts';
import { expect, test } from './harness.ts';

const portalDir = fileURLToPath(new URL('../../public/', import.meta.url));
test.use({ serverOptions: { staticDir: portalDir } });
// Each test is a visitor's whole story (sign in, chat, open a tab, switch or sign out): dozens of
// worker and server round trips, which on two shared cores can outlast the suite's 30 s.
test.describe.configure({ timeout: 60_000 });

// A first load installs the worker, and a join is a few worker and server round trips: on a
// loaded machine both take longer than expect's default.
const SLOW = { timeout: 15_000 };
const JWT = /eyJ[\w-]+\.[\w-]+\.[\w-]+/;
/** The cookie's path: the login routes only (src/server/demo-login.ts). */
const loginUrl = (serverUrl: string) => `${serverUrl}/demo/session`;

async function openPortal(context: BrowserContext, url: string): Promise<Page> {
  const tab = await context.newPage();
  await tab.goto(`${url}/`);
  await expect(tab.locator('#connection-state')).toHaveText('Ready', SLOW);
  return tab;
}

async function signIn(tab: Page, user: string): Promise<void> {
  await tab.getByLabel('User name').fill(user);
  await tab.getByRole('button', { name: 'Sign in' }).click();
  await expect(tab.locator('#who')).toHaveText(user);
}

const chatPanel = (tab: Page) => tab.locator('tabwarden-chat-panel');
const timelineRows = (tab: Page, from: string, event: string) =>
  tab.locator(`#timeline .timeline-row[data-tab="${from}"]`).filter({ hasText: event });

test('R3: a tab opened after sign-in joins from the shared app login with no click and shows the conversation', async ({
  context,
  testServer,
}) => {
  const first = await openPortal(context, testServer.url);
  await expect(first.locator('#tab-label')).toHaveText('Tab 1');
  await signIn(first, 'alice');
  // Signed in, the portal opens the conversation.
  await expect(chatPanel(first)).toHaveAttribute('open');
  await chatPanel(first).getByRole('textbox', { name: 'Message' }).fill('Hello from tab 1');
  await chatPanel(first).getByRole('button', { name: 'Send' }).click();
  await expect(chatPanel(first).locator('.entry.agent')).toContainText('Hello from tab 1', SLOW);

  // The second tab: nothing is typed or clicked in it.
  const second = await openPortal(context, testServer.url);
  await expect(second.locator('#tab-label')).toHaveText('Tab 2');
  await expect(second.locator('#who')).toHaveText('alice', SLOW);
  await expect(chatPanel(second)).toHaveAttribute('open');
  await expect(chatPanel(second).locator('.entry.user')).toContainText('Hello from tab 1', SLOW);
  await expect(chatPanel(second).locator('.entry.agent')).toContainText('Hello from tab 1');
  // Chat in one tab, the message shows in both.
  await chatPanel(second).getByRole('textbox', { name: 'Message' }).fill('And hello from tab 2');
  await chatPanel(second).getByRole('button', { name: 'Send' }).click();
  await expect(chatPanel(first).locator('.entry.user').nth(1)).toContainText('And hello from tab 2');
  // It joined the session: one exchange for both tabs (R4).
  expect(testServer.exchangeCount()).toBe(1);

  // Tab 1's timeline shows what tab 2 got, and when.
  await expect(timelineRows(first, 'Tab 2', 'onEmbeddedMessagingReady')).toHaveCount(1);
  await expect(timelineRows(first, 'Tab 2', 'verified')).toContainText('as alice');
  await expect(timelineRows(first, 'Tab 1', 'verified')).toHaveCount(1);
  for (const tab of [first, second]) {
    expect(await tab.locator('#timeline').textContent()).not.toMatch(JWT);
    // The portal keeps its login in the cookie alone: nothing in the tab's storage (R3).
    expect(await tab.evaluate(() => localStorage.length + sessionStorage.length)).toBe(0);
  }

  // The login is a random session id in an HttpOnly, SameSite=Strict cookie, never a token (R3).
  const cookies = await context.cookies(loginUrl(testServer.url));
  expect(cookies.map((cookie) => cookie.name)).toEqual([DEMO_SESSION_COOKIE]);
  expect(cookies[0]).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/demo/session' });
  expect(cookies[0]!.value).not.toMatch(JWT);
  expect(cookies[0]!.value).not.toContain('alice');

  const screenshot = process.env.TABWARDEN_PORTAL_SCREENSHOT;
  if (screenshot) {
    await expect(chatPanel(first).locator('.entry.agent').nth(1)).toContainText('And hello from tab 2');
    await first.setViewportSize({ width: 1280, height: 960 });
    await first.bringToFront();
    await first.locator('#timeline').evaluate((list) => (list.scrollTop = 0));
    await first.screenshot({ path: screenshot });
  }
});

test('R7: signing out in one tab clears every tab and the app login; a reload stays signed out', async ({
  context,
  testServer,
}) => {
  const first = await openPortal(context, testServer.url);
  await signIn(first, 'alice');
  const second = await openPortal(context, testServer.url);
  await expect(second.locator('#who')).toHaveText('alice', SLOW);

  await second.getByRole('button', { name: 'Sign out' }).click();
  for (const tab of [first, second]) {
    await expect(tab.getByRole('button', { name: 'Sign in' })).toBeVisible();
    await expect(tab.locator('#signed-in')).toBeHidden();
    await expect(chatPanel(tab)).not.toHaveAttribute('open');
    await expect(tab.getByRole('button', { name: 'Chat with us' })).toHaveCount(0);
  }
  await expect(timelineRows(first, 'Tab 1', 'tabwarden:session-cleared')).toContainText('reason: logout');
  await expect(timelineRows(first, 'Tab 2', 'tabwarden:session-cleared')).toContainText('reason: logout');

  // The app's session is gone: no cookie, and its token route refuses.
  expect(await context.cookies(loginUrl(testServer.url))).toEqual([]);
  const refused = await context.request.post(`${loginUrl(testServer.url)}/identity-token`);
  expect(refused.status()).toBe(401);
  expect((await refused.json()).code).toBe('ERR_NO_SESSION');

  await first.reload();
  await expect(first.locator('#connection-state')).toHaveText('Ready', SLOW);
  await expect(timelineRows(first, 'Tab 1', 'no app session')).toHaveCount(1);
  await expect(first.getByRole('button', { name: 'Sign in' })).toBeVisible();
  expect(testServer.exchangeCount()).toBe(1);
});

test('R8: switching to another user in one tab moves every tab to that user by itself, leaving nothing of the first', async ({
  context,
  testServer,
}) => {
  const first = await openPortal(context, testServer.url);
  await signIn(first, 'alice');
  await chatPanel(first).getByRole('textbox', { name: 'Message' }).fill('A secret of alice');
  await chatPanel(first).getByRole('button', { name: 'Send' }).click();
  const second = await openPortal(context, testServer.url);
  await expect(chatPanel(second).locator('.entry.user')).toContainText('A secret of alice', SLOW);

  await first.getByLabel('Switch to another user').fill('bob');
  await first.getByRole('button', { name: 'Switch' }).click();
  for (const tab of [first, second]) {
    await expect(tab.locator('#who')).toHaveText('bob', SLOW);
    await expect(chatPanel(tab)).toHaveAttribute('open');
  }
  // Bob's conversation reaches both tabs, and nothing of alice's is left in either.
  await chatPanel(second).getByRole('textbox', { name: 'Message' }).fill('Hi, bob here');
  await chatPanel(second).getByRole('button', { name: 'Send' }).click();
  for (const tab of [first, second]) {
    await expect(chatPanel(tab).locator('.entry.agent')).toContainText('Hi, bob here', SLOW);
    await expect(chatPanel(tab).locator('.entry')).toHaveCount(2);
    await expect(chatPanel(tab)).not.toContainText('A secret of alice');
  }
  await expect(timelineRows(first, 'Tab 2', 'tabwarden:session-cleared')).toContainText(
    'reason: user-switch',
  );
  await expect(timelineRows(first, 'Tab 2', 'verified').first()).toContainText('as bob');
  // One exchange per user, whatever the number of tabs (R4).
  expect(testServer.exchangeCount()).toBe(2);
});

test('message rule: the chat panel counts code points: 4,000 emoji go whole, one more is refused and kept', async ({
  context,
  testServer,
}) => {
  const tab = await openPortal(context, testServer.url);
  await signIn(tab, 'alice');
  const box = chatPanel(tab).getByRole('textbox', { name: 'Message' });
  const send = chatPanel(tab).getByRole('button', { name: 'Send' });
  // 8,000 UTF-16 units: a textarea's maxlength of 4,000 would have cut it in half.
  const atLimit = '😀'.repeat(MESSAGE_TEXT_LIMIT);

  await box.fill(`${atLimit}😀`);
  await send.click();
  await expect(chatPanel(tab).locator('.error')).toContainText('(ERR_INVALID_ARGUMENT)');
  await expect(box).toHaveValue(`${atLimit}😀`);

  await box.fill(atLimit);
  await send.click();
  await expect(box).toHaveValue('', SLOW);
  await expect(chatPanel(tab).locator('.entry.user .text')).toHaveText([atLimit], SLOW);
  await expect(chatPanel(tab).locator('.error')).toHaveText('');
});

test('the chat panel timestamps have a contrast of at least 4.5:1 in light and dark colour schemes', async ({
  context,
  testServer,
}) => {
  const tab = await openPortal(context, testServer.url);
  await signIn(tab, 'alice');
  await chatPanel(tab).getByRole('textbox', { name: 'Message' }).fill('hello');
  await chatPanel(tab).getByRole('button', { name: 'Send' }).click();
  await expect(chatPanel(tab).locator('.entry.agent .time')).toHaveCount(1);
  const ratios: Record<string, number> = {};
  for (const colorScheme of ['light', 'dark'] as const) {
    await tab.emulateMedia({ colorScheme });
    for (const role of ['user', 'agent'] as const) {
      const colours = await renderedColours(chatPanel(tab).locator(`.entry.${role} .time`));
      ratios[`${colorScheme} ${role}`] = Number(contrastRatio(colours).toFixed(2));
    }
  }
  // Proof the scheme really switched: the user bubble is light in one, dark in the other.
  await tab.emulateMedia({ colorScheme: 'light' });
  const light = await renderedColours(chatPanel(tab).locator('.entry.user .time'));
  await tab.emulateMedia({ colorScheme: 'dark' });
  const dark = await renderedColours(chatPanel(tab).locator('.entry.user .time'));
  expect(light.backgrounds[0]).not.toEqual(dark.backgrounds[0]);
  for (const [where, ratio] of Object.entries(ratios)) {
    expect(ratio, `${where}: ${JSON.stringify(ratios)}`).toBeGreaterThanOrEqual(4.5);
  }
  test.info().annotations.push({ type: 'contrast', description: JSON.stringify(ratios) });
});
