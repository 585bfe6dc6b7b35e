// tabwarden/core: the session engine and what it is built from, for hosting it in a worker of your
// own, carrying one tab's TabApi over a transport of your own, or handling its errors. Re-exports
// only. The rest of src/core (the tab channel's messages and their checks, the server's HTTP paths
// and bodies, the store's schema, the worker URL's config encoding) is internal: tabwarden's own
// hosts and page stub import it by relative path, and test/package/public-surface.test.ts pins
// this list.

// The engine, and the API one tab may call on it.
export { SessionEngine } from './session-engine.ts';
export type { SessionEngineOptions } from './session-engine.ts';
export { createTabApi } from './tab-api.ts';
export { PROTOCOL_VERSION } from './protocol.ts';
export type {
  ClearReason,
  ConversationEntry,
  ConversationInfo,
  IdentityClaims,
  OutboxMessage,
  RpcResult,
  SentMessage,
  Subject,
  TabApi,
  TabListener,
  TabState,
  WorkerEvent,
  WorkerEventType,
} from './protocol.ts';

// What the engine is built from: the verifier, the server's clients, the store, the clock.
export { createIdentityTokenVerifier } from './verify-identity-token.ts';
export type {
  IdentityTokenAlgorithm,
  IdentityTokenVerifier,
  IdentityTokenVerifierOptions,
  VerifiedIdentity,
  VerifyOptions,
} from './verify-identity-token.ts';
export { inspectIdentityToken, precheckIdentityToken } from './inspect-identity-token.ts';
export type { IdentityTokenRequest } from './inspect-identity-token.ts';
export { createAuthorizationClient } from './authorization-client.ts';
export type { AuthorizationClient } from './authorization-client.ts';
export { createConversationClient } from './conversation-client.ts';
export type { ConversationClient } from './conversation-client.ts';
export type { Fetch, HttpClientOptions } from './request-json.ts';
export type { ConversationResponse, ExchangeResponse } from './server-api.ts';
export { openSessionStore } from './store.ts';
export type { OutboxItem, SessionRecord, SessionStore, StoredState, StoreEvents } from './store.ts';
export { systemClock } from './clock.ts';
export type { Clock } from './clock.ts';

// Errors, and their plain-data form for crossing structured cloning (what RpcResult carries).
export {
  TabwardenError,
  IdentityTokenError,
  isTabwardenError,
  isErrorCode,
  serializeError,
  deserializeError,
} from './errors.ts';
export type { ErrorCode, TokenErrorCode, SerializedError } from './errors.ts';
