// tabwarden/testing: helpers for testing apps that use tabwarden. Re-exports only.
export { createTestIdentityProvider } from './test-identity-provider.ts';
export type { MintOptions, TestIdentityProvider } from './test-identity-provider.ts';
export { ManualClock } from './manual-clock.ts';
