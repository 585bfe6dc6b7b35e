import { describe, expect, it } from 'vitest';
import {
  deserializeError,
  IdentityTokenError,
  serializeError,
  TabwardenError,
} from '../../src/core/errors.ts';
import { PROTOCOL_VERSION } from '../../src/core/protocol.ts';
import {
  isRpcResult,
  parseConnectMessage,
  parseEventAck,
  parseEventMessage,
  parseProbeMessage,
  parseProbeReply,
  parseWorkerEvent,
} from '../../src/core/validate-message.ts';

const origin = 'https://app.example';

describe('parseConnectMessage', () => {
  const connect = { type: 'tabwarden:connect', protocol: PROTOCOL_VERSION, tabId: 'tab-1' };

  it('R13: accepts a well-formed connect message from the own origin', () => {
    expect(parseConnectMessage(connect, origin, origin)).toEqual(connect);
  });

  it('R13: ignores messages from other origins', () => {
    expect(parseConnectMessage(connect, 'https://evil.example', origin)).toBeUndefined();
    expect(parseConnectMessage(connect, 'null', origin)).toBeUndefined();
  });

  it('R13: ignores other protocol versions and malformed messages', () => {
    for (const data of [
      { ...connect, protocol: PROTOCOL_VERSION + 1 },
      { ...connect, type: 'connect' },
      { ...connect, tabId: '' },
      { ...connect, tabId: 'x'.repeat(101) },
      { ...connect, tabId: 7 },
      null,
      'tabwarden:connect',
      [connect],
    ]) {
      expect(parseConnectMessage(data, origin, origin)).toBeUndefined();
    }
  });

  it('R13: copies only the known fields', () => {
    expect(parseConnectMessage({ ...connect, extra: 'ignored' }, origin, origin)).toEqual(connect);
  });

  it('R13: keeps a well-formed restore credential and drops a malformed one', () => {
    const restore = { identityToken: 'a.b.c', sessionVersion: 3 };
    expect(parseConnectMessage({ ...connect, restore }, origin, origin)).toEqual({ ...connect, restore });
    for (const bad of [
      { ...restore, identityToken: '' },
      { ...restore, identityToken: 'x'.repeat(16 * 1024 + 1) },
      { ...restore, identityToken: 7 },
      { ...restore, sessionVersion: -1 },
      { ...restore, sessionVersion: 1.5 },
      { ...restore, sessionVersion: '3' },
      'a.b.c',
      null,
    ]) {
      expect(parseConnectMessage({ ...connect, restore: bad }, origin, origin)).toEqual(connect);
    }
  });

  it('R13: keeps the event-port flag only when it is exactly true', () => {
    expect(parseConnectMessage({ ...connect, listen: true }, origin, origin)).toEqual({
      ...connect,
      listen: true,
    });
    for (const listen of [false, 'true', 1, {}]) {
      expect(parseConnectMessage({ ...connect, listen }, origin, origin)).toEqual(connect);
    }
  });
});

describe('parseProbeMessage and parseProbeReply', () => {
  const probe = { type: 'tabwarden:probe', protocol: PROTOCOL_VERSION, callIds: ['c-1', 'c-2'] };

  it('R13: accepts a probe from the own origin with a bounded list of ids, and nothing else', () => {
    expect(parseProbeMessage(probe, origin, origin)).toEqual(probe);
    expect(parseProbeMessage(probe, 'https://evil.example', origin)).toBeUndefined();
    expect(parseProbeMessage({ ...probe, protocol: 99 }, origin, origin)).toBeUndefined();
    expect(parseProbeMessage({ ...probe, callIds: ['ok', 7] }, origin, origin)).toBeUndefined();
    const many = Array.from({ length: 101 }, (_, i) => `c-${i}`);
    expect(parseProbeMessage({ ...probe, callIds: many }, origin, origin)).toBeUndefined();
  });

  it('R13: accepts a well-formed reply only', () => {
    const reply = { type: 'tabwarden:probe-reply', instanceId: 'w-1', known: ['c-1'] };
    expect(parseProbeReply(reply)).toEqual(reply);
    expect(parseProbeReply({ ...reply, instanceId: '' })).toBeUndefined();
    expect(parseProbeReply({ ...reply, known: 'c-1' })).toBeUndefined();
  });

  it('R10: a connect message keeps its call id, so a probe can ask for it', () => {
    const connect = { type: 'tabwarden:connect', protocol: PROTOCOL_VERSION, tabId: 't', callId: 'c-9' };
    expect(parseConnectMessage(connect, origin, origin)?.callId).toBe('c-9');
    expect(parseConnectMessage({ ...connect, callId: 9 }, origin, origin)?.callId).toBeUndefined();
  });
});

describe('parseEventMessage and parseEventAck', () => {
  const event = { type: 'session-cleared', sessionVersion: 2, reason: 'logout' };
  const message = { type: 'tabwarden:event', protocol: PROTOCOL_VERSION, tabId: 'tab-1', event };

  it('R13: accepts an event for this tab or every tab, from the own origin only', () => {
    expect(parseEventMessage(message, origin, origin, 'tab-1')).toEqual(message);
    expect(parseEventMessage({ ...message, tabId: '*' }, origin, origin, 'tab-1')).toMatchObject({
      tabId: '*',
    });
    expect(parseEventMessage(message, origin, origin, 'tab-2')).toBeUndefined();
    expect(parseEventMessage(message, 'https://evil.example', origin, 'tab-1')).toBeUndefined();
  });

  it('R13: keeps a whole-number ack id and drops any other', () => {
    expect(parseEventMessage({ ...message, ackId: 7 }, origin, origin, 'tab-1')).toEqual({
      ...message,
      ackId: 7,
    });
    for (const ackId of [-1, 1.5, '7', null]) {
      expect(parseEventMessage({ ...message, ackId }, origin, origin, 'tab-1')).toEqual(message);
    }
  });

  it('R13: an ack names its event by a whole number', () => {
    expect(parseEventAck({ type: 'tabwarden:ack', ackId: 3 })).toBe(3);
    for (const bad of [
      { type: 'tabwarden:ack', ackId: '3' },
      { type: 'ack', ackId: 3 },
      { type: 'tabwarden:ack' },
      'ack',
      null,
    ]) {
      expect(parseEventAck(bad)).toBeUndefined();
    }
  });
});

describe('parseWorkerEvent', () => {
  it('R13: accepts each well-formed event', () => {
    const events = [
      { type: 'identity-token-expired', sessionVersion: 1, deadline: 5 },
      {
        type: 'identity-token-refreshed',
        sessionVersion: 1,
        identityToken: 'a.b.c',
        claims: { sub: 's', iss: 'i', exp: 9 },
      },
      { type: 'session-started', sessionVersion: 2, conversationId: 'c', subject: { iss: 'i', sub: 's' } },
      { type: 'session-cleared', sessionVersion: 3, reason: 'logout' },
      {
        type: 'entries',
        sessionVersion: 4,
        conversationId: 'c',
        entries: [
          { conversationId: 'c', seq: 1, role: 'user', text: 'hi', createdAt: 7, clientMessageId: 'm' },
          { conversationId: 'c', seq: 2, role: 'agent', text: 'hello', createdAt: 8 },
        ],
      },
    ];
    for (const event of events) expect(parseWorkerEvent(event)).toEqual(event);
  });

  it('R13: ignores malformed events', () => {
    for (const data of [
      { type: 'session-cleared', sessionVersion: 3, reason: 'because' },
      { type: 'session-cleared', sessionVersion: -1, reason: 'logout' },
      { type: 'session-cleared', reason: 'logout' },
      { type: 'identity-token-expired', sessionVersion: 1, deadline: 'soon' },
      {
        type: 'identity-token-refreshed',
        sessionVersion: 1,
        identityToken: '',
        claims: { sub: 's', iss: 'i', exp: 9 },
      },
      { type: 'session-started', sessionVersion: 2, conversationId: 'c', subject: 'alice' },
      { type: 'entries', sessionVersion: 4, conversationId: 'c', entries: 'many' },
      {
        type: 'entries',
        sessionVersion: 4,
        conversationId: 'c',
        entries: [{ conversationId: 'c', seq: -1, role: 'agent', text: 'x', createdAt: 1 }],
      },
      {
        type: 'entries',
        sessionVersion: 4,
        conversationId: 'c',
        entries: [{ conversationId: 'c', seq: 1, role: 'admin', text: 'x', createdAt: 1 }],
      },
      { type: 'unknown', sessionVersion: 1 },
      undefined,
    ]) {
      expect(parseWorkerEvent(data)).toBeUndefined();
    }
  });
});

describe('errors across the boundary', () => {
  it('keeps the code and message of tabwarden errors, and the class of token errors', () => {
    const rebuilt = deserializeError(serializeError(new IdentityTokenError('ERR_TOKEN_EXPIRED', 'expired')));
    expect(rebuilt).toBeInstanceOf(IdentityTokenError);
    expect(rebuilt).toMatchObject({
      code: 'ERR_TOKEN_EXPIRED',
      message: 'expired',
      name: 'IdentityTokenError',
    });
    expect(deserializeError(serializeError(new TabwardenError('ERR_TIMEOUT', 'slow')))).toMatchObject({
      code: 'ERR_TIMEOUT',
      name: 'TabwardenError',
    });
  });

  it('R3: never lets a foreign error (which may carry a token) cross over', () => {
    expect(serializeError(new Error('token eyJhbGciOi...'))).toEqual({
      code: 'ERR_SERVER',
      message: 'Unexpected internal error',
    });
  });

  it('R13: isRpcResult accepts results and refuses look-alikes', () => {
    expect(isRpcResult({ ok: true, value: 1 })).toBe(true);
    expect(isRpcResult({ ok: false, error: { code: 'ERR_TIMEOUT', message: 'x' } })).toBe(true);
    expect(isRpcResult({ ok: false, error: { code: 'ERR_MADE_UP', message: 'x' } })).toBe(false);
    expect(isRpcResult({ ok: true })).toBe(false);
  });
});
