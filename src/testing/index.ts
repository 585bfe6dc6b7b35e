// tabwarden/testing: helpers for testing apps that use tabwarden. Re-exports only.
import './script-tag-global.ts';
export { createTestIdentityProvider } from './test-identity-provider.ts';
export type { MintOptions, TestIdentityProvider } from './test-identity-provider.ts';
export { ManualClock } from './manual-clock.ts';
export { createTestTabwarden } from './create-test-tabwarden.ts';
export type { TestTabwarden, TestTabwardenOptions } from './create-test-tabwarden.ts';
export { BAD_TOKEN_KINDS, startIdentityProvider } from './identity-provider-server.ts';
export type {
  BadTokenKind,
  MintUserOptions,
  ServedIdentityProvider,
  StartIdentityProviderOptions,
} from './identity-provider-server.ts';

// Headless-browser helpers (Node side; playwright-core is loaded only by launchChromium).
export {
  CHROMIUM_ARGS,
  DEBIAN_CHROMIUM_PATH,
  chromiumPath,
  chromiumLaunchOptions,
  launchChromium,
} from './browser/launch-chromium.ts';
export type { ChromiumOptions } from './browser/launch-chromium.ts';
export { startTestServer } from './browser/start-test-server.ts';
export type {
  MintIdentityTokenOptions,
  RecordedRequest,
  StartTestServerOptions,
  TestServer,
} from './browser/start-test-server.ts';
export { openTabs } from './browser/open-tabs.ts';
export type { OpenTabsOptions } from './browser/open-tabs.ts';
export { stopServiceWorker, waitForServiceWorkerControl } from './browser/service-worker-control.ts';
export type {
  ServiceWorkerVersionState,
  ServiceWorkerWaitOptions,
  StoppedServiceWorkers,
} from './browser/service-worker-control.ts';
export { fireBackgroundSync } from './browser/background-sync.ts';
export { goOffline, goOnline, whileOffline } from './browser/network.ts';
export { TABWARDEN_WINDOW_EVENTS, collectEvents, eventsOf, waitForEvent } from './browser/collect-events.ts';
export type {
  CollectEventsOptions,
  RecordedEvent,
  TabwardenWindowEventName,
  WaitForEventOptions,
} from './browser/collect-events.ts';
