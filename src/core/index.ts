// tabwarden/core: the transport-independent heart. Re-exports only.
export { SessionEngine } from './session-engine.ts';
export type { SessionEngineOptions } from './session-engine.ts';
export { createTabApi } from './tab-api.ts';
export { createIdentityTokenVerifier } from './verify-identity-token.ts';
export {
  inspectIdentityToken,
  precheckIdentityToken,
  DEFAULT_MAX_TOKEN_BYTES,
} from './inspect-identity-token.ts';
export type { IdentityTokenRequest } from './inspect-identity-token.ts';
export type {
  IdentityTokenAlgorithm,
  IdentityTokenVerifier,
  IdentityTokenVerifierOptions,
  VerifiedIdentity,
  VerifyOptions,
} from './verify-identity-token.ts';
export { createAuthorizationClient } from './authorization-client.ts';
export type { AuthorizationClient } from './authorization-client.ts';
export { createConversationClient } from './conversation-client.ts';
export type { ConversationClient } from './conversation-client.ts';
export type { Fetch, HttpClientOptions } from './request-json.ts';
export { openSessionStore, SCHEMA_VERSION } from './store.ts';
export type { OutboxItem, SessionRecord, SessionStore } from './store.ts';
export { systemClock, withTimeout } from './clock.ts';
export type { Clock } from './clock.ts';
export {
  TabwardenError,
  IdentityTokenError,
  isTabwardenError,
  isErrorCode,
  serializeError,
  deserializeError,
} from './errors.ts';
export type { ErrorCode, TokenErrorCode, SerializedError } from './errors.ts';
export { PROTOCOL_VERSION } from './protocol.ts';
export type {
  ClearReason,
  HostMessage,
  TabMessage,
  ConversationEntry,
  ConversationInfo,
  IdentityClaims,
  RpcResult,
  Subject,
  TabApi,
  TabListener,
  TabState,
  WorkerEvent,
  WorkerEventType,
} from './protocol.ts';
export { parseTabMessage, parseHostMessage } from './validate-message.ts';
export { encodeWorkerConfig, decodeWorkerConfig } from './worker-config.ts';
export type { WorkerConfig } from './worker-config.ts';
export { apiPaths } from './server-api.ts';
export { ServerSentEventParser } from './parse-server-sent-events.ts';
export type { ServerSentEvent } from './parse-server-sent-events.ts';
export type {
  ConversationResponse,
  EntriesResponse,
  ErrorResponse,
  ExchangeRequest,
  ExchangeResponse,
  PostMessageRequest,
  PostMessageResponse,
} from './server-api.ts';
