// @vitest-environment node
// The package's public surface, pinned: each entry's runtime export names, compared with a list
// written out here. A name added to (or dropped from) an entry's index fails this test until it
// is added here too, on purpose: internals stay importable by relative path inside the package,
// never through an entry (README, "API"). Type-only names are not runtime names; the entries'
// indexes list them beside the values they belong to.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** Each entry with a JavaScript module (package.json `exports`), its source index and its names. */
const SURFACE: Record<string, { load: () => Promise<object>; names: string[] }> = {
  '.': { load: () => import('../../src/page/index.ts'), names: pageNames() },
  './page': { load: () => import('../../src/page/index.ts'), names: pageNames() },
  './ui': {
    load: () => import('../../src/page/ui/index.ts'),
    names: [
      'BUTTON_CREATED_EVENT',
      'ELEMENT_NAMES',
      'MOUNT_ATTRIBUTE',
      'TabwardenChatPanel',
      'TabwardenConversationButton',
      'autoMount',
      'defineTabwardenElements',
      'mountTabwardenUI',
    ],
  },
  './core': {
    load: () => import('../../src/core/index.ts'),
    names: [
      'IdentityTokenError',
      'PROTOCOL_VERSION',
      'SessionEngine',
      'TabwardenError',
      'createAuthorizationClient',
      'createConversationClient',
      'createIdentityTokenVerifier',
      'createTabApi',
      'deserializeError',
      'inspectIdentityToken',
      'isErrorCode',
      'isTabwardenError',
      'openSessionStore',
      'precheckIdentityToken',
      'serializeError',
      'systemClock',
    ],
  },
  './testing': {
    load: () => import('../../src/testing/index.ts'),
    names: [
      'BAD_TOKEN_KINDS',
      'CHROMIUM_ARGS',
      'DEBIAN_CHROMIUM_PATH',
      'ManualClock',
      'TABWARDEN_WINDOW_EVENTS',
      'chromiumLaunchOptions',
      'chromiumPath',
      'collectEvents',
      'createTestIdentityProvider',
      'createTestTabwarden',
      'eventsOf',
      'fireBackgroundSync',
      'goOffline',
      'goOnline',
      'launchChromium',
      'openTabs',
      'startIdentityProvider',
      'startTestServer',
      'stopServiceWorker',
      'waitForEvent',
      'waitForServiceWorkerControl',
      'whileOffline',
    ],
  },
  './testing/playwright': {
    load: () => import('../../src/testing/playwright/index.ts'),
    names: [
      'BAD_TOKEN_KINDS',
      'NetworkControl',
      'TabCallError',
      'Tabs',
      'TestAppServer',
      'TimeMachine',
      'WorkerControl',
      'expect',
      'startIdentityProvider',
      'test',
    ],
  },
  './server': {
    load: () => import('../../src/server/index.ts'),
    names: [
      'DEMO_ISSUER',
      'DemoIdentityProvider',
      'createRedactingLogger',
      'createTabwardenHandler',
      'redactSecrets',
      'redactToken',
      'resolveServerOptions',
      'startServer',
    ],
  },
  './vite': { load: () => import('../../src/vite/index.ts'), names: ['WORKER_FILES', 'tabwarden'] },
};

/** Entries of types only: `tabwarden/vite/client` declares the plugin's virtual module. */
const TYPES_ONLY = ['./vite/client'];

function pageNames(): string[] {
  return [
    'Tabwarden',
    'TabwardenError',
    'createEmbeddedServiceBootstrap',
    'createTabwarden',
    'isTabwardenError',
  ];
}

describe('the public surface', () => {
  it("covers every entry of package.json's exports that is a module (not a bundle loaded by URL)", () => {
    const { exports } = JSON.parse(readFileSync('package.json', 'utf8')) as {
      exports: Record<string, string | { types: string; default: string }>;
    };
    const modules = Object.keys(exports).filter((entry) => typeof exports[entry] === 'object');
    expect(modules.sort()).toEqual([...Object.keys(SURFACE), ...TYPES_ONLY].sort());
  });

  for (const [entry, { load, names }] of Object.entries(SURFACE)) {
    it(`${entry === '.' ? 'tabwarden' : `tabwarden/${entry.slice(2)}`} exports exactly its listed runtime names`, async () => {
      expect(Object.keys(await load()).sort()).toEqual([...names].sort());
    });
  }
});
