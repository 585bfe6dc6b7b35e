import { isErrorCode } from './errors.ts';
import { DEFAULT_MAX_TOKEN_BYTES } from './inspect-identity-token.ts';
import {
  PROTOCOL_VERSION,
  type ClearReason,
  type ConversationEntry,
  type HostMessage,
  type IdentityClaims,
  type OutboxMessage,
  type RpcResult,
  type TabMessage,
  type TabState,
  type WorkerEvent,
} from './protocol.ts';

// Runtime checks for what arrives over postMessage (R13). Anything that fails is ignored by the
// receiver: a malformed or foreign message must never change state. Exported is what receivers
// call: parseTabMessage (the hosts), parseHostMessage (the page), isRecord (the server's bodies).

/** A non-null, non-array object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A safe integer of at least 0. */
const isWholeNumber = (value: unknown): value is number =>
  Number.isSafeInteger(value) && (value as number) >= 0;

/** A non-empty string. */
const isText = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

/** A tab's or a call's id: a non-empty string of at most 100 characters. */
const isId = (value: unknown): value is string => isText(value) && value.length <= 100;

const ENTRY_ROLES = new Set(['user', 'agent', 'system']);

/** True when `value` has the shape of a {@link ConversationEntry}. */
function isEntry(value: unknown): value is ConversationEntry {
  return (
    isRecord(value) &&
    isText(value.conversationId) &&
    isWholeNumber(value.seq) &&
    typeof value.role === 'string' &&
    ENTRY_ROLES.has(value.role) &&
    typeof value.text === 'string' &&
    Number.isFinite(value.createdAt) &&
    (value.clientMessageId === undefined || typeof value.clientMessageId === 'string')
  );
}

/** An outbox message, if `data` is a well-formed one. */
function parseOutboxMessage(data: unknown): OutboxMessage | undefined {
  if (!isRecord(data) || (data.status !== 'pending' && data.status !== 'failed')) return undefined;
  if (!isText(data.clientMessageId) || !isText(data.conversationId) || typeof data.text !== 'string') {
    return undefined;
  }
  if (!Number.isFinite(data.createdAt)) return undefined;
  const message: OutboxMessage = {
    status: data.status,
    clientMessageId: data.clientMessageId,
    conversationId: data.conversationId,
    role: 'user',
    text: data.text,
    createdAt: data.createdAt as number,
  };
  const error = data.error;
  if (isRecord(error) && isErrorCode(error.code) && typeof error.message === 'string') {
    message.error = { code: error.code, message: error.message };
  }
  return message;
}

const CLEAR_REASONS = new Set([
  'logout',
  'identity-token-timeout',
  'user-switch',
  'authorization-revoked',
  'storage-cleared',
]);

/** The worker event in `data`, or `undefined` if it is not a well-formed one. */
function parseWorkerEvent(data: unknown): WorkerEvent | undefined {
  if (!isRecord(data) || !isWholeNumber(data.sessionVersion)) return undefined;
  const sessionVersion = data.sessionVersion;
  switch (data.type) {
    case 'identity-token-expired':
      return Number.isFinite(data.deadline)
        ? { type: data.type, sessionVersion, deadline: data.deadline as number }
        : undefined;
    case 'identity-token-refreshed': {
      const claims = data.claims;
      if (!isText(data.identityToken) || !isRecord(claims)) return undefined;
      if (!isText(claims.sub) || !isText(claims.iss) || !Number.isFinite(claims.exp)) return undefined;
      return {
        type: data.type,
        sessionVersion,
        identityToken: data.identityToken,
        claims: { sub: claims.sub, iss: claims.iss, exp: claims.exp as number },
      };
    }
    case 'session-started': {
      const subject = data.subject;
      if (!isText(data.conversationId) || !isRecord(subject)) return undefined;
      if (!isText(subject.iss) || !isText(subject.sub)) return undefined;
      return {
        type: data.type,
        sessionVersion,
        conversationId: data.conversationId,
        subject: { iss: subject.iss, sub: subject.sub },
      };
    }
    case 'outbox-changed': {
      if (!Array.isArray(data.messages)) return undefined;
      const messages = data.messages.map(parseOutboxMessage);
      return messages.every((message) => message !== undefined)
        ? { type: data.type, sessionVersion, messages: messages as OutboxMessage[] }
        : undefined;
    }
    case 'message-delivered':
      return isEntry(data.entry) ? { type: data.type, sessionVersion, entry: data.entry } : undefined;
    case 'connectivity':
      return typeof data.online === 'boolean'
        ? { type: data.type, sessionVersion, online: data.online }
        : undefined;
    case 'entries':
      return isText(data.conversationId) && Array.isArray(data.entries) && data.entries.every(isEntry)
        ? { type: data.type, sessionVersion, conversationId: data.conversationId, entries: data.entries }
        : undefined;
    case 'session-cleared':
      return typeof data.reason === 'string' && CLEAR_REASONS.has(data.reason)
        ? { type: data.type, sessionVersion, reason: data.reason as ClearReason }
        : undefined;
    default:
      return undefined;
  }
}

/** Longest `args` list of a call: no {@link TabApi} method takes more. */
const MAX_ARGS = 8;

/**
 * The tab-channel message a tab sent (R13), if `data` is a well-formed one of this protocol
 * version; otherwise `undefined`. The host still checks the method against its own list.
 */
export function parseTabMessage(data: unknown): TabMessage | undefined {
  if (!isRecord(data) || data.protocol !== PROTOCOL_VERSION || !isId(data.tabId)) return undefined;
  const { protocol, tabId } = data;
  switch (data.type) {
    case 'tabwarden:connect': {
      const connect: TabMessage = { type: data.type, protocol, tabId };
      const restore = data.restore;
      if (
        isRecord(restore) &&
        isText(restore.identityToken) &&
        restore.identityToken.length <= DEFAULT_MAX_TOKEN_BYTES &&
        isWholeNumber(restore.sessionVersion)
      ) {
        connect.restore = { identityToken: restore.identityToken, sessionVersion: restore.sessionVersion };
      }
      return connect;
    }
    case 'tabwarden:call':
      if (
        !isId(data.id) ||
        !isText(data.method) ||
        !Array.isArray(data.args) ||
        data.args.length > MAX_ARGS
      ) {
        return undefined;
      }
      return { type: data.type, protocol, tabId, id: data.id, method: data.method, args: [...data.args] };
    case 'tabwarden:ack':
      return isId(data.id) ? { type: data.type, protocol, tabId, id: data.id } : undefined;
    default:
      return undefined;
  }
}

/**
 * The tab's state in a welcome, if `data` has its shape. The page keeps only what it reads there
 * (Tabwarden's #rejoin): the version, `verified`, the conversation and the last clear's reason. A
 * subject or grace deadline the host sends along is not read, so not kept; checked or not, it
 * never decided whether a welcome is accepted.
 */
function parseTabState(data: unknown): TabState | undefined {
  if (!isRecord(data) || !isWholeNumber(data.sessionVersion) || typeof data.verified !== 'boolean') {
    return undefined;
  }
  const state: TabState = { sessionVersion: data.sessionVersion, verified: data.verified };
  if (isText(data.conversationId)) state.conversationId = data.conversationId;
  if (typeof data.lastClearReason === 'string' && CLEAR_REASONS.has(data.lastClearReason)) {
    state.lastClearReason = data.lastClearReason as ClearReason;
  }
  return state;
}

/**
 * The tab-channel message the host sent (R13), if `data` is a well-formed one of this protocol
 * version addressed to `tabId` (or, for `started`, to every tab: `'*'`).
 */
export function parseHostMessage(data: unknown, tabId: string): HostMessage | undefined {
  if (!isRecord(data) || data.protocol !== PROTOCOL_VERSION) return undefined;
  const protocol = data.protocol;
  if (data.tabId !== tabId && !(data.type === 'tabwarden:started' && data.tabId === '*')) return undefined;
  switch (data.type) {
    case 'tabwarden:welcome': {
      const state = parseTabState(data.state);
      if (!isId(data.instanceId) || !state) return undefined;
      const welcome: HostMessage = { type: data.type, protocol, tabId, instanceId: data.instanceId, state };
      if (isRpcResult(data.restored)) welcome.restored = data.restored as RpcResult<IdentityClaims>;
      return welcome;
    }
    case 'tabwarden:started':
      return isId(data.instanceId)
        ? { type: data.type, protocol, tabId: data.tabId as string, instanceId: data.instanceId }
        : undefined;
    case 'tabwarden:reply':
      return isId(data.id) && 'result' in data
        ? { type: data.type, protocol, tabId, id: data.id, result: data.result }
        : undefined;
    case 'tabwarden:event': {
      const event = parseWorkerEvent(data.event);
      return event && isId(data.id) ? { type: data.type, protocol, tabId, id: data.id, event } : undefined;
    }
    default:
      return undefined;
  }
}

/** True when `data` has the shape of an {@link RpcResult}. */
function isRpcResult(data: unknown): data is RpcResult<unknown> {
  if (!isRecord(data)) return false;
  if (data.ok === true) return 'value' in data;
  return (
    data.ok === false &&
    isRecord(data.error) &&
    isErrorCode(data.error.code) &&
    typeof data.error.message === 'string'
  );
}
