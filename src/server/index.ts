// The `tabwarden/server` entry: re-exports only.
export { startServer } from './start-server.ts';
export type { RunningServer } from './start-server.ts';
export { createTabwardenHandler } from './handler.ts';
export type { TabwardenHandler } from './handler.ts';
export { resolveServerOptions } from './options.ts';
export type { ServerOptions, ResolvedServerOptions } from './options.ts';
export { DemoIdentityProvider, DEMO_ISSUER } from './demo-identity-provider.ts';
export { redactSecrets, redactToken, createRedactingLogger } from './log.ts';
export type { Logger } from './log.ts';
