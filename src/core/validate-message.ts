import { isErrorCode } from './errors.ts';
import { DEFAULT_MAX_TOKEN_BYTES } from './inspect-identity-token.ts';
import {
  PROTOCOL_VERSION,
  type ClearReason,
  type ConnectMessage,
  type ConversationEntry,
  type EventMessage,
  type ProbeMessage,
  type ProbeReply,
  type RpcResult,
  type WorkerEvent,
} from './protocol.ts';

// Runtime checks for what arrives over postMessage (R13). Anything that fails is ignored by the
// receiver: a malformed or foreign message must never change state.

/** A non-null, non-array object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A safe integer of at least 0. */
const isWholeNumber = (value: unknown): value is number =>
  Number.isSafeInteger(value) && (value as number) >= 0;

/** A non-empty string. */
export const isText = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

/** A tab's or a call's id: a non-empty string of at most 100 characters. */
export const isId = (value: unknown): value is string => isText(value) && value.length <= 100;

/**
 * The connect message a tab sends the worker, if `data` is one from `origin` and `origin` is the
 * worker's own. Otherwise `undefined`: foreign origins and other protocol versions are ignored.
 */
export function parseConnectMessage(
  data: unknown,
  origin: string,
  ownOrigin: string,
): ConnectMessage | undefined {
  if (origin !== ownOrigin || !isRecord(data)) return undefined;
  if (data.type !== 'tabwarden:connect' || data.protocol !== PROTOCOL_VERSION) return undefined;
  if (!isId(data.tabId)) return undefined;
  const connect: ConnectMessage = { type: data.type, protocol: data.protocol, tabId: data.tabId };
  if (data.listen === true) connect.listen = true;
  if (isId(data.callId)) connect.callId = data.callId;
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

// A tab has few calls in flight; more ids than this is no tab of ours.
const MAX_PROBED_CALLS = 100;

/** The probe a tab sends its service worker, if `data` is one from the worker's own origin. */
export function parseProbeMessage(
  data: unknown,
  origin: string,
  ownOrigin: string,
): ProbeMessage | undefined {
  if (origin !== ownOrigin || !isRecord(data)) return undefined;
  if (data.type !== 'tabwarden:probe' || data.protocol !== PROTOCOL_VERSION) return undefined;
  const callIds = data.callIds;
  if (!Array.isArray(callIds) || callIds.length > MAX_PROBED_CALLS || !callIds.every(isId)) return undefined;
  return { type: data.type, protocol: data.protocol, callIds: [...callIds] };
}

/** The worker's answer to a probe, if `data` is a well-formed one. */
export function parseProbeReply(data: unknown): ProbeReply | undefined {
  if (!isRecord(data) || data.type !== 'tabwarden:probe-reply' || !isId(data.instanceId)) return undefined;
  const known = data.known;
  if (!Array.isArray(known) || !known.every(isId)) return undefined;
  return { type: data.type, instanceId: data.instanceId, known: [...known] };
}

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

const CLEAR_REASONS = new Set([
  'logout',
  'identity-token-timeout',
  'user-switch',
  'authorization-revoked',
  'storage-cleared',
]);

/** The worker event in `data`, or `undefined` if it is not a well-formed one. */
export function parseWorkerEvent(data: unknown): WorkerEvent | undefined {
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
    case 'identity-token-requested':
      return { type: data.type, sessionVersion };
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

/**
 * The event message in `data`, if it is a well-formed one from the own origin addressed to
 * `tabId` or to every tab (`'*'`).
 */
export function parseEventMessage(
  data: unknown,
  origin: string,
  ownOrigin: string,
  tabId: string,
): EventMessage | undefined {
  if (origin !== ownOrigin || !isRecord(data)) return undefined;
  if (
    data.type !== 'tabwarden:event' ||
    data.protocol !== PROTOCOL_VERSION ||
    (data.tabId !== tabId && data.tabId !== '*')
  ) {
    return undefined;
  }
  const event = parseWorkerEvent(data.event);
  if (!event) return undefined;
  const message: EventMessage = { type: data.type, protocol: data.protocol, tabId: data.tabId, event };
  if (isWholeNumber(data.ackId)) message.ackId = data.ackId;
  return message;
}

/** The id `data` confirms, if it is a well-formed {@link EventAck}. */
export function parseEventAck(data: unknown): number | undefined {
  return isRecord(data) && data.type === 'tabwarden:ack' && isWholeNumber(data.ackId)
    ? data.ackId
    : undefined;
}

/** True when `data` has the shape of an {@link RpcResult}. */
export function isRpcResult(data: unknown): data is RpcResult<unknown> {
  if (!isRecord(data)) return false;
  if (data.ok === true) return 'value' in data;
  return (
    data.ok === false &&
    isRecord(data.error) &&
    isErrorCode(data.error.code) &&
    typeof data.error.message === 'string'
  );
}
