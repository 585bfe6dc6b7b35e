// The free names the TypeScript examples in the docs use, with their real types, so that
// scripts/check-docs.ts type-checks what the examples do with them.
import type * as TabwardenFixtures from 'tabwarden/testing/playwright';
import type { BrowserContext, Page } from '@playwright/test';
import type { ConversationEntry, Tabwarden, WorkerConfig } from 'tabwarden';
import type * as Testing from 'tabwarden/testing';
import type { TestServer } from 'tabwarden/testing';

declare global {
  const tw: Tabwarden;
  const identityToken: string;
  const issuer: WorkerConfig['issuer'];
  const jwksUrl: string;
  const serverUrl: string;
  const tab: Page;
  const context: BrowserContext;
  const server: TestServer;
  const tmp: string;
  // docs/testing.md's snippets are files of a user's suite: `test` and `expect` from its e2e/test.ts
  // (tabwarden/testing/playwright's, pointed at the app), the kit's helpers imported.
  const test: typeof TabwardenFixtures.test;
  const expect: typeof TabwardenFixtures.expect;
  const waitForEvent: typeof Testing.waitForEvent;
  const eventsOf: typeof Testing.eventsOf;
  const openTabs: typeof Testing.openTabs;
  const createTestIdentityProvider: typeof Testing.createTestIdentityProvider;
  const startTestServer: typeof Testing.startTestServer;
  const waitForServiceWorkerControl: typeof Testing.waitForServiceWorkerControl;
  const stopServiceWorker: typeof Testing.stopServiceWorker;
  const goOffline: typeof Testing.goOffline;
  const goOnline: typeof Testing.goOnline;
  function render(entries: ConversationEntry[]): void;
  function showSignedOut(): void;
  function login(): Promise<string>;
}
