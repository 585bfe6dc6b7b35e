// tabwarden/page: the page stub. Re-exports only. jose never reaches this bundle.
export { createTabwarden } from './create-tabwarden.ts';
export { createEmbeddedServiceBootstrap } from './embedded-service-bootstrap.ts';
export type { EmbeddedServiceBootstrap } from './embedded-service-bootstrap.ts';
export type { TabwardenOptions } from './create-tabwarden.ts';
export { Tabwarden } from './tabwarden.ts';
export type { TabwardenClientOptions } from './tabwarden.ts';
export type { TabwardenEventMap } from './tabwarden-events.ts';
export type { TransportKind } from './tab-channel.ts';
export { TabwardenError, isTabwardenError } from '../core/errors.ts';
export type { ErrorCode } from '../core/errors.ts';
export type { ConversationEntry, ConversationInfo, IdentityClaims, TabState } from '../core/protocol.ts';
export type { WorkerConfig } from '../core/worker-config.ts';
