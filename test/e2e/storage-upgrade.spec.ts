// An IndexedDB upgrade blocked by an old tab that holds the previous schema open, once per
// transport: an old release's tab that ignores the browser's request to close (`versionchange`)
// keeps this release's engine from starting. Every call then fails ERR_STORAGE at once, saying
// why — none hangs —, and once that tab is gone the next call works, without a reload.
import type { Page } from '@playwright/test';
import { SCHEMA_VERSION } from '../../src/core/store.ts';
import { readDatabase } from './app-driver.ts';
import { appUrl, expect, test } from './kit-app.ts';

// Far below a call's own limit (10 s): the host answers without waiting for the blocker.
const ANSWER_BOUND_MS = 2_000;

/**
 * Opens the tabwarden database at schema version 1 in `tab`, as the release before the offline
 * cache made it, and holds it open, ignoring every request to close.
 */
function holdPreviousSchema(tab: Page): Promise<number> {
  return tab.evaluate(
    () =>
      new Promise<number>((resolve, reject) => {
        const request = indexedDB.open('tabwarden', 1);
        request.onupgradeneeded = () => {
          request.result.createObjectStore('meta');
          request.result.createObjectStore('session');
        };
        request.onsuccess = () => {
          // No `onversionchange`: the old release never steps aside.
          Object.assign(window, { oldRelease: request.result });
          resolve(request.result.version);
        };
        request.onerror = () => reject(request.error);
      }),
  );
}

/** The version of the tabwarden database as the browser has it now. */
function databaseVersion(tab: Page): Promise<number | undefined> {
  return tab.evaluate(
    async () => (await indexedDB.databases()).find((database) => database.name === 'tabwarden')?.version,
  );
}

/** How long `call` took to settle, and how: its error's code and message, or `ok`. */
async function timed(call: Promise<unknown>): Promise<{ ms: number; outcome: unknown }> {
  const began = Date.now();
  const outcome = await call.then(
    () => 'ok',
    (error: { code?: string; message?: string }) => ({ code: error.code, message: error.message }),
  );
  return { ms: Date.now() - began, outcome };
}

test('R10: an upgrade blocked by an old tab answers every call ERR_STORAGE at once; once the tab is gone, the next call works', async ({
  tabs,
  server,
}) => {
  // The old release's tab: same origin, no tabwarden of this release started in it.
  const [oldTab] = await tabs.open(1, {
    url: appUrl(tabs, { query: { deferInit: 1 } }),
    waitForReady: false,
  });
  expect(await holdPreviousSchema(oldTab!)).toBe(1);

  // The handshake needs no storage: the page gets ready, and learns why from its calls.
  const [tab] = await tabs.open(1);
  const blocked = { code: 'ERR_STORAGE', message: expect.stringMatching(/upgrade blocked.*another tab/) };
  for (const call of [
    () => tabs.signIn(tab, 'alice'),
    () => tabs.call(tab, 'startConversation'),
    () => tabs.call(tab, 'sendMessage', 'while blocked'),
  ]) {
    const { ms, outcome } = await timed(call());
    expect(outcome).toEqual(blocked);
    expect(ms).toBeLessThan(ANSWER_BOUND_MS);
  }
  expect(server.count('POST /v1/authorization')).toBe(0);

  // The old tab goes (closed, or reloaded into this release): the upgrade goes on, as soon as
  // the browser has let the old connection go.
  await oldTab!.close();
  await expect.poll(() => databaseVersion(tab)).toBe(SCHEMA_VERSION);
  const signedIn = await timed(tabs.signIn(tab, 'alice'));
  expect(signedIn.outcome).toBe('ok');
  expect(signedIn.ms).toBeLessThan(ANSWER_BOUND_MS);
  const { conversationId } = await tabs.call(tab, 'startConversation');
  expect(await tabs.call(tab, 'sendMessage', 'after the upgrade')).toMatchObject({ conversationId });
  expect(await tabs.state(tab)).toMatchObject({ verified: true, conversationId });
  // This release's schema, with the session in it.
  expect(await readDatabase(tab)).toMatchObject({ session: [{ conversationId }], outbox: [] });
  expect(server.count('POST /v1/authorization')).toBe(1);
});
