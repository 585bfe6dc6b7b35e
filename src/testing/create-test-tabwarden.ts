import { createAuthorizationClient } from '../core/authorization-client.ts';
import { createConversationClient } from '../core/conversation-client.ts';
import { DEFAULT_GRACE_MS } from '../core/grace-window.ts';
import type { TabMessage } from '../core/protocol.ts';
import { SessionEngine } from '../core/session-engine.ts';
import { openSessionStore } from '../core/store.ts';
import { TabChannelHost } from '../core/tab-channel-host.ts';
import { parseTabMessage } from '../core/validate-message.ts';
import { createIdentityTokenVerifier } from '../core/verify-identity-token.ts';
import { openTabwarden, type Tabwarden, type TabwardenClientOptions } from '../page/tabwarden.ts';
import type { ChannelTransport } from '../page/tab-channel.ts';
import {
  startTestServer,
  type StartTestServerOptions,
  type TestServer,
} from './browser/start-test-server.ts';
import { startIdentityProvider, type ServedIdentityProvider } from './identity-provider-server.ts';
import { ManualClock } from './manual-clock.ts';

/** Options of {@link createTestTabwarden}. */
export interface TestTabwardenOptions {
  /** How many tabs (page clients) to open at once. Default 1; more with `openTab()`. */
  tabs?: number;
  /** The R6 grace window, in ms of the test's clock. Default 30 s. */
  graceMs?: number;
  /** Options of each tab's client (`identityTokenProvider`, `callTimeoutMs`...). */
  client?: Omit<TabwardenClientOptions, 'serverUrl' | 'graceMs'>;
  /** Reference-server options (docs/server.md), e.g. `{ accessTokenLifetimeSeconds: 60 }`. */
  serverOptions?: StartTestServerOptions;
}

/** An in-memory tabwarden: the real engine behind the page API, no browser. */
export interface TestTabwarden {
  /** The tabs opened so far: each a page client, as `createTabwarden()` gives one. */
  readonly tabs: Tabwarden[];
  /** Opens one more tab of the same "browser profile" (same engine, same store). */
  openTab(): Promise<Tabwarden>;
  /** The test identity provider the engine and the server trust (`mint`, `mintBad`). */
  identityProvider: ServedIdentityProvider;
  /** The reference server (in-memory database) the engine talks to. */
  server: TestServer;
  /** The time of the engine, the server and the identity provider: moves only with `advance`. */
  clock: ManualClock;
  /** The engine itself, for assertions on what the worker would hold. */
  engine: SessionEngine;
  /** Closes the tabs, the server and the identity provider. */
  close(): Promise<void>;
}

let instances = 0;

/**
 * The page client listens on `window` (pageshow, pagehide). Node has no window, and no page to
 * freeze or hide, so it gets a window-like event target those listeners can sit on; jsdom and
 * happy-dom have their own.
 */
function ensureWindowEvents(): void {
  const global = globalThis as { addEventListener?: unknown };
  if (typeof global.addEventListener === 'function') return;
  const target = new EventTarget();
  Object.assign(globalThis, {
    addEventListener: target.addEventListener.bind(target),
    removeEventListener: target.removeEventListener.bind(target),
    dispatchEvent: target.dispatchEvent.bind(target),
  });
}

/**
 * The tab channel inside this process, as a worker would carry it: each tab's page end talks to
 * the one host over a MessageChannel of its own, so tabs meet the real channel (calls, events,
 * acks, the welcome) without a browser.
 */
class InProcessTransport implements ChannelTransport {
  readonly kind = 'in-page';
  readonly announcesRestart = true;
  readonly #port: MessagePort;

  constructor(host: TabChannelHost) {
    const { port1, port2 } = new MessageChannel();
    port2.onmessage = (event) => {
      const message = parseTabMessage(event.data);
      if (!message) return;
      void host.receive(message.tabId, message, (reply) => {
        port2.postMessage(reply);
        return true;
      });
    };
    this.#port = port1;
  }

  open(receive: (data: unknown) => void): void {
    this.#port.onmessage = (event) => receive(event.data);
  }

  post(message: TabMessage): void {
    this.#port.postMessage(message);
  }

  close(): void {
    this.#port.close();
  }
}

/**
 * Creates an in-memory tabwarden for unit tests of app code without a browser (Vitest, in node,
 * jsdom or happy-dom): the real session engine (src/core) behind the real page API, a
 * reference server with an in-memory database on 127.0.0.1, a test identity provider, and one
 * {@link ManualClock} for all of them. IndexedDB comes from the test environment: in Node,
 * `import 'fake-indexeddb/auto'` first.
 *
 * @example
 * ```ts
 * import 'fake-indexeddb/auto';
 * import { createTestTabwarden } from 'tabwarden/testing';
 *
 * const tw = await createTestTabwarden({ tabs: 2 });
 * const [first, second] = tw.tabs;
 * await first.setIdentityToken(await tw.identityProvider.mint('alice'));
 * await second.setIdentityToken(await tw.identityProvider.mint('alice'));
 * await first.startConversation();
 * await tw.clock.advance(11 * 60_000); // both tokens expired
 * second.addEventListener('identity-token-expired', () => console.log('asked for a token'));
 * await tw.close();
 * ```
 */
export async function createTestTabwarden(options: TestTabwardenOptions = {}): Promise<TestTabwarden> {
  ensureWindowEvents();
  const clock = new ManualClock();
  const identityProvider = await startIdentityProvider({ clock });
  const trust = { issuer: identityProvider.issuer, audience: identityProvider.audience };
  let server: TestServer;
  try {
    server = await startTestServer({
      ...trust,
      jwksUrl: identityProvider.jwksUrl,
      clock,
      ...options.serverOptions,
    });
  } catch (error) {
    await identityProvider.close();
    throw error;
  }
  const http = { baseUrl: server.url };
  const engine = await SessionEngine.create({
    verifier: createIdentityTokenVerifier({ ...trust, jwksUrl: identityProvider.jwksUrl, clock }),
    authorization: createAuthorizationClient(http),
    conversations: createConversationClient(http),
    // One database per instance: tests in one file do not share a session.
    store: await openSessionStore(`tabwarden-test-${++instances}-${crypto.randomUUID()}`),
    clock,
    graceMs: options.graceMs ?? DEFAULT_GRACE_MS,
  });

  const host = new TabChannelHost(() => Promise.resolve(engine), crypto.randomUUID());
  const tabs: Tabwarden[] = [];
  const openTab = async () => {
    const tab = await openTabwarden(new InProcessTransport(host), crypto.randomUUID(), {
      ...options.client,
      graceMs: options.graceMs ?? DEFAULT_GRACE_MS,
    });
    tabs.push(tab);
    return tab;
  };
  for (let i = 0; i < (options.tabs ?? 1); i++) await openTab();

  return {
    tabs,
    openTab,
    identityProvider,
    server,
    clock,
    engine,
    async close() {
      for (const tab of tabs) tab.close();
      await server.close();
      await identityProvider.close();
    },
  };
}
