import { describe, expect, it } from 'vitest';
import {
  deserializeError,
  IdentityTokenError,
  serializeError,
  TabwardenError,
} from '../../src/core/errors.ts';
import { PROTOCOL_VERSION } from '../../src/core/protocol.ts';
import { parseHostMessage, parseTabMessage } from '../../src/core/validate-message.ts';

describe('parseTabMessage (what a tab sends the host)', () => {
  const connect = { type: 'tabwarden:connect', protocol: PROTOCOL_VERSION, tabId: 'tab-1' };
  const call = {
    type: 'tabwarden:call',
    protocol: PROTOCOL_VERSION,
    tabId: 'tab-1',
    id: '1',
    method: 'getState',
    args: [],
  };
  const ack = { type: 'tabwarden:ack', protocol: PROTOCOL_VERSION, tabId: 'tab-1', id: '7' };

  it('R13: accepts a well-formed connect, call and ack, copying only the known fields', () => {
    for (const message of [connect, call, ack]) {
      expect(parseTabMessage(message)).toEqual(message);
      expect(parseTabMessage({ ...message, extra: 'ignored' })).toEqual(message);
    }
  });

  it('R13: ignores other protocol versions, tab ids and malformed messages', () => {
    for (const data of [
      { ...connect, protocol: PROTOCOL_VERSION + 1 },
      { ...connect, protocol: String(PROTOCOL_VERSION) },
      { ...connect, type: 'connect' },
      { ...connect, tabId: '' },
      { ...connect, tabId: 'x'.repeat(101) },
      { ...connect, tabId: 7 },
      { ...call, id: '' },
      { ...call, id: 1 },
      { ...call, method: '' },
      { ...call, args: 'true' },
      { ...call, args: Array.from({ length: 9 }, () => 0) },
      { ...ack, id: undefined },
      { ...ack, type: 'tabwarden:reply' },
      null,
      'tabwarden:connect',
      [connect],
    ]) {
      expect(parseTabMessage(data)).toBeUndefined();
    }
  });

  it('R13: keeps a well-formed restore credential on a connect and drops a malformed one', () => {
    const restore = { identityToken: 'a.b.c', sessionVersion: 3 };
    expect(parseTabMessage({ ...connect, restore })).toEqual({ ...connect, restore });
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
      expect(parseTabMessage({ ...connect, restore: bad })).toEqual(connect);
    }
  });
});

describe('parseHostMessage (what the host sends a tab)', () => {
  const base = { protocol: PROTOCOL_VERSION, tabId: 'tab-1' };
  const state = { sessionVersion: 2, verified: true, conversationId: 'c-1', lastClearReason: 'logout' };
  const welcome = { ...base, type: 'tabwarden:welcome', instanceId: 'w-1', state };
  const event = {
    ...base,
    type: 'tabwarden:event',
    id: '3',
    event: { type: 'session-cleared', sessionVersion: 2, reason: 'logout' },
  };
  const reply = { ...base, type: 'tabwarden:reply', id: '1', result: { ok: true, value: 1 } };

  it('R13: accepts a welcome, a reply and an event for this tab only', () => {
    for (const message of [welcome, event, reply]) {
      expect(parseHostMessage(message, 'tab-1')).toEqual(message);
      expect(parseHostMessage(message, 'tab-2')).toBeUndefined();
      expect(parseHostMessage({ ...message, tabId: '*' }, 'tab-1')).toBeUndefined();
    }
  });

  it('R10: accepts a start announced to every tab, or to this one', () => {
    const started = { type: 'tabwarden:started', protocol: PROTOCOL_VERSION, tabId: '*', instanceId: 'w-2' };
    expect(parseHostMessage(started, 'tab-1')).toEqual(started);
    expect(parseHostMessage({ ...started, tabId: 'tab-1' }, 'tab-1')).toMatchObject({ tabId: 'tab-1' });
    expect(parseHostMessage({ ...started, instanceId: '' }, 'tab-1')).toBeUndefined();
  });

  it('R10: keeps a welcome’s restore outcome when it is an RpcResult, and drops anything else', () => {
    for (const restored of [
      { ok: false, error: { code: 'ERR_SESSION_CLEARED', message: 'cleared' } },
      { ok: true, value: { sub: 's', iss: 'i', exp: 9 } },
    ]) {
      expect(parseHostMessage({ ...welcome, restored }, 'tab-1')).toEqual({ ...welcome, restored });
    }
    for (const lookAlike of [
      { ok: false, error: { code: 'NOPE' } },
      { ok: false, error: { code: 'ERR_MADE_UP', message: 'x' } },
      { ok: true },
    ]) {
      expect(parseHostMessage({ ...welcome, restored: lookAlike }, 'tab-1')).toEqual(welcome);
    }
  });

  it('R13: ignores malformed messages and states', () => {
    for (const data of [
      { ...welcome, state: { ...state, sessionVersion: -1 } },
      { ...welcome, state: { ...state, verified: 'yes' } },
      { ...welcome, instanceId: 7 },
      { ...event, event: { type: 'session-cleared', sessionVersion: 2, reason: 'because' } },
      { ...event, id: 3 },
      { ...reply, result: undefined, id: '' },
      { ...reply, protocol: PROTOCOL_VERSION + 1 },
      { ...base, type: 'tabwarden:call', id: '1', method: 'getState', args: [] },
      null,
    ]) {
      expect(parseHostMessage(data, 'tab-1')).toBeUndefined();
    }
    const { result: _result, ...noResult } = reply;
    expect(parseHostMessage(noResult, 'tab-1')).toBeUndefined();
  });
});

describe('worker events (in a host message)', () => {
  // Events reach a tab only inside a host message, so they are checked through parseHostMessage.
  const carrying = (event: unknown) => ({
    type: 'tabwarden:event',
    protocol: PROTOCOL_VERSION,
    tabId: 'tab-1',
    id: '1',
    event,
  });

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
        type: 'outbox-changed',
        sessionVersion: 3,
        messages: [
          {
            status: 'pending',
            clientMessageId: 'm',
            conversationId: 'c',
            role: 'user',
            text: 'hi',
            createdAt: 1,
          },
          {
            status: 'failed',
            clientMessageId: 'n',
            conversationId: 'c',
            role: 'user',
            text: 'no',
            createdAt: 2,
            error: { code: 'ERR_CONVERSATION_ENDED', message: 'ended' },
          },
        ],
      },
      {
        type: 'message-delivered',
        sessionVersion: 3,
        entry: { conversationId: 'c', seq: 4, role: 'user', text: 'hi', createdAt: 1, clientMessageId: 'm' },
      },
      { type: 'connectivity', sessionVersion: 3, online: false },
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
    for (const event of events) expect(parseHostMessage(carrying(event), 'tab-1')).toEqual(carrying(event));
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
      { type: 'outbox-changed', sessionVersion: 3, messages: [{ status: 'sent', clientMessageId: 'm' }] },
      { type: 'message-delivered', sessionVersion: 3, entry: { conversationId: 'c', seq: -1 } },
      { type: 'connectivity', sessionVersion: 3, online: 'yes' },
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
      expect(parseHostMessage(carrying(data), 'tab-1')).toBeUndefined();
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
});
