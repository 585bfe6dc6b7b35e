// Drives the fixture app (fixtures/app/) from the tests: opens it in N tabs of one browser
// context for the transport under test, and calls the page's client through `window.app`
// (fixtures/app/common.js), whose answers are plain data: `{ ok: true, value }` or
// `{ ok: false, code, message }`.
import { expect, type BrowserContext, type Page } from '@playwright/test';
import {
  TABWARDEN_WINDOW_EVENTS,
  collectEvents,
  eventsOf,
  openTabs,
  waitForEvent,
  type RecordedEvent,
  type TestServer,
} from '../../src/testing/index.ts';
import type { ConversationEntry, IdentityClaims } from '../../src/core/protocol.ts';
import type { Transport } from './harness.ts';

/** `app.html` (module API, `createTabwarden`) or `seed.html` (the seed's facade, script tag). */
export type AppKind = 'app' | 'seed';

/** A call's outcome, as the page reports it. */
export type Outcome<T = unknown> = { ok: true; value: T } | { ok: false; code: string; message: string };

/** `tw.state` plus `ready` and `transport`. */
export interface AppState {
  sessionVersion: number;
  verified: boolean;
  subject?: { iss: string; sub: string };
  conversationId?: string;
  graceDeadline?: number;
  ready: boolean;
  transport: string;
}

export type { ConversationEntry, IdentityClaims } from '../../src/core/protocol.ts';

/** tabwarden's IndexedDB database, store by store (`null`: no database). */
export interface DatabaseDump {
  meta: number[];
  session: Array<{
    subject: { iss: string; sub: string };
    accessToken: string;
    accessTokenExpiresAt: number;
    conversationId: string;
    sessionVersion: number;
    graceDeadline?: number;
  }>;
  entries: ConversationEntry[];
  outbox: unknown[];
}

// What fixtures/app/common.js puts on window.
interface AppApi {
  tw: unknown;
  providerCalls: number;
  created: Promise<{ ok: boolean; transport?: string; code?: string; message?: string }> | undefined;
  init?: () => Promise<unknown>;
  setIdentityToken?: (identityToken: string, identityTokenType?: string) => boolean;
  clearSession?: (shouldEndSession?: boolean) => Promise<Outcome<undefined>>;
  mint(sub: string, expiresInSeconds?: number): Promise<string>;
  readDatabase(): Promise<DatabaseDump | null>;
  storageSnapshot(): Promise<string>;
  sharedWorkerUrl(): string;
  call(method: string, ...args: unknown[]): Promise<Outcome>;
  start(name: string, method: string, ...args: unknown[]): void;
  isSettled(name: string): Promise<boolean>;
  settled(name: string): Promise<Outcome>;
  state(): AppState | undefined;
}
declare global {
  interface Window {
    app: AppApi;
    // embeddedservice_bootstrap: typed by tabwarden/testing (src/testing/script-tag-global.ts).
  }
}

/** The module API's events, as fixtures/app/common.js re-dispatches them on window. */
export const APP_EVENTS = [
  'app:ready',
  'app:verified',
  'app:identity-token-rejected',
  'app:identity-token-expired',
  'app:identity-token-refreshed',
  'app:session-started',
  'app:session-cleared',
  'app:outbox',
  'app:message-delivered',
  'app:connectivity',
] as const;

export interface OpenOptions {
  /** Default `'seed'`: the facade, whose client is also reachable as the module API. */
  kind?: AppKind;
  /** More query parameters (see fixtures/app/common.js). Never a token. */
  query?: Record<string, string | number | boolean>;
  /**
   * Open the tabs all at once, as a browser restoring a session does. Default false: one after
   * another, each ready before the next opens (the first is then the in-page leader), so a test
   * of another rule does not depend on start-up races; R1 tests those.
   */
  together?: boolean;
  /** Do not wait for the client (seed.html with `deferInit`). */
  noWait?: boolean;
}

/** The fixture app for one test: its server, browser context and transport. */
export class AppDriver {
  readonly context: BrowserContext;
  readonly server: TestServer;
  readonly transport: Transport;
  #recording = false;

  constructor(context: BrowserContext, server: TestServer, transport: Transport) {
    this.context = context;
    this.server = server;
    this.transport = transport;
  }

  /** The app's URL for this transport. */
  url(kind: AppKind = 'seed', query: OpenOptions['query'] = {}): string {
    const search = new URLSearchParams({ transport: this.transport });
    for (const [name, value] of Object.entries(query)) search.set(name, String(value));
    return `${this.server.url}/${kind}.html?${search}`;
  }

  /** Opens `count` tabs of the app and waits until each one's client is ready (R1). */
  async open(count: number, options: OpenOptions = {}): Promise<Page[]> {
    await this.#record();
    const url = this.url(options.kind, options.query);
    if (options.together) {
      const tabs = await openTabs(this.context, count, url);
      if (!options.noWait) await Promise.all(tabs.map((tab) => whenReady(tab)));
      return tabs;
    }
    const tabs: Page[] = [];
    for (let i = 0; i < count; i++) {
      const [tab] = await openTabs(this.context, 1, url);
      if (!options.noWait) await whenReady(tab!);
      tabs.push(tab!);
    }
    return tabs;
  }

  /** Mints an identity token (in the test, handed to a page in memory only). */
  mint(sub: string, expiresInSeconds = 600): Promise<string> {
    return this.server.mintIdentityToken({ sub, expiresInSeconds });
  }

  async #record(): Promise<void> {
    if (this.#recording) return;
    this.#recording = true;
    await collectEvents(this.context, { names: [...TABWARDEN_WINDOW_EVENTS, ...APP_EVENTS] });
  }
}

/** Waits until the tab's client exists and its `ready` went out; fails with the page's error. */
export async function whenReady(tab: Page): Promise<void> {
  const created = await tab.evaluate(() => window.app.created ?? window.app.init?.());
  expect(created, `client of ${tab.url()}: ${JSON.stringify(created)}`).toMatchObject({ ok: true });
  await waitForEvent(tab, 'app:ready');
}

/** Reloads a tab and waits for its new client. */
export async function reload(tab: Page): Promise<void> {
  await tab.reload();
  await whenReady(tab);
}

/** Calls `tw[method](...args)` in the tab. */
export function call<T = unknown>(tab: Page, method: string, ...args: unknown[]): Promise<Outcome<T>> {
  return tab.evaluate(([method, args]) => window.app.call(method, ...args), [
    method,
    args,
  ] as const) as Promise<Outcome<T>>;
}

/** Calls `tw[method](...args)` and returns its value; fails the test with the code otherwise. */
export async function value<T = unknown>(tab: Page, method: string, ...args: unknown[]): Promise<T> {
  const outcome = await call<T>(tab, method, ...args);
  if (!outcome.ok) throw new Error(`${method} failed in ${tab.url()}: ${outcome.code} ${outcome.message}`);
  return outcome.value;
}

/** Starts `tw[method](...args)` in the tab without waiting; see {@link settled}. */
export async function start(tab: Page, name: string, method: string, ...args: unknown[]): Promise<void> {
  await tab.evaluate(([name, method, args]) => window.app.start(name, method, ...args), [
    name,
    method,
    args,
  ] as const);
}

/** Whether the call started as `name` has settled (does not wait). */
export function isSettled(tab: Page, name: string): Promise<boolean> {
  return tab.evaluate((name) => window.app.isSettled(name), name);
}

/** Waits for the call started as `name`. */
export function settled<T = unknown>(tab: Page, name: string): Promise<Outcome<T>> {
  return tab.evaluate((name) => window.app.settled(name), name) as Promise<Outcome<T>>;
}

/** Presents a token through the module API (`tw.setIdentityToken`) and returns its claims. */
export function signIn(tab: Page, identityToken: string): Promise<IdentityClaims> {
  return value<IdentityClaims>(tab, 'setIdentityToken', identityToken);
}

/** The seed facade's `userVerificationAPI.setIdentityToken({ identityTokenType, identityToken })`. */
export function facadeSetIdentityToken(
  tab: Page,
  identityToken: string,
  identityTokenType = 'JWT',
): Promise<boolean> {
  return tab.evaluate(([token, type]) => window.app.setIdentityToken!(token, type), [
    identityToken,
    identityTokenType,
  ] as const);
}

/** The seed facade's `userVerificationAPI.clearSession(shouldEndSession)`. */
export function facadeClearSession(tab: Page, shouldEndSession = false): Promise<Outcome<undefined>> {
  return tab.evaluate((end) => window.app.clearSession!(end), shouldEndSession);
}

/** The tab's client state. */
export async function stateOf(tab: Page): Promise<AppState> {
  const state = await tab.evaluate(() => window.app.state());
  if (!state) throw new Error(`no client in ${tab.url()}`);
  return state;
}

/** tabwarden's IndexedDB database as the page sees it. */
export function readDatabase(tab: Page): Promise<DatabaseDump | null> {
  return tab.evaluate(() => window.app.readDatabase());
}

/** The events named `name` the tab dispatched since it loaded. */
export function eventsNamed<Detail = unknown>(tab: Page, name: string): Promise<RecordedEvent<Detail>[]> {
  return eventsOf<Detail>(tab, name);
}

/**
 * R3/R13: none of `tokens` appears in the tab's URL, cookies, Web Storage, Cache Storage,
 * IndexedDB or any DOM attribute.
 */
export async function expectNoTokenStored(tab: Page, tokens: readonly string[]): Promise<void> {
  const snapshot = await tab.evaluate(() => window.app.storageSnapshot());
  for (const token of tokens) {
    // The signature alone is enough to recognise a token; look for the whole and its parts.
    const [header, payload, signature] = token.split('.');
    expect(snapshot.includes(token), `an identity token is stored in ${tab.url()}`).toBe(false);
    expect(snapshot.includes(signature!), `an identity token's signature is stored in ${tab.url()}`).toBe(
      false,
    );
    expect(snapshot.includes(`${header}.${payload}`), `an identity token is stored in ${tab.url()}`).toBe(
      false,
    );
  }
}
