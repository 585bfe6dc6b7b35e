// tabwarden/testing/playwright: Playwright's test and expect, extended with tabwarden's fixtures
// and matchers. Needs @playwright/test (an optional peer). Re-exports only.
export { test } from './fixtures.ts';
export type { TabEvents, TabwardenFixtures, TabwardenKitOptions } from './fixtures.ts';
export { expect } from './matchers.ts';
export type { DispatchedOptions } from './matchers.ts';
export { TabCallError, Tabs } from './tabs.ts';
export type { AppEnvironment, OpenOptions } from './tabs.ts';
export { TestAppServer } from './test-app-server.ts';
export { TimeMachine } from './time-machine.ts';
export { WorkerControl } from './worker-control.ts';
export { NetworkControl } from './network-control.ts';
export { BAD_TOKEN_KINDS, startIdentityProvider } from '../identity-provider-server.ts';
export type {
  BadTokenKind,
  MintUserOptions,
  ServedIdentityProvider,
  StartIdentityProviderOptions,
} from '../identity-provider-server.ts';
export type { ArrivedRequest, HeldRoute, Route } from '../front-door.ts';
