import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../src/core/protocol.ts';
import { parseLeaderMessage } from '../../src/core/validate-leader-message.ts';

const protocol = PROTOCOL_VERSION;
const event = { type: 'session-cleared', sessionVersion: 2, reason: 'logout' };
const good = [
  { type: 'tabwarden:call', protocol, tabId: 't-1', callId: 'c-1', method: 'getState', args: [] },
  { type: 'tabwarden:reply', protocol, tabId: 't-1', callId: 'c-1', result: { ok: true, value: 1 } },
  { type: 'tabwarden:event', protocol, tabId: '*', event, ackId: 'a-1' },
  { type: 'tabwarden:ack', protocol, ackId: 'a-1' },
];

describe('parseLeaderMessage (the in-page transport)', () => {
  it('R13: accepts each well-formed message and copies only the known fields', () => {
    for (const message of good) {
      expect(parseLeaderMessage({ ...message, extra: 'ignored' })).toEqual(message);
    }
  });

  it('R13: ignores other protocol versions, unknown types and malformed fields', () => {
    const [call, reply, eventMessage, ack] = good as Array<Record<string, unknown>>;
    for (const bad of [
      ...good.map((message) => ({ ...message, protocol: protocol + 1 })),
      { ...call, type: 'tabwarden:shout' },
      { ...call, tabId: '' },
      { ...call, callId: 'x'.repeat(101) },
      { ...call, args: 'getState' },
      { ...reply, result: undefined, callId: 7 },
      { ...eventMessage, event: { type: 'session-cleared' } },
      { ...eventMessage, ackId: undefined },
      { ...ack, ackId: '' },
      null,
      'tabwarden:call',
    ]) {
      expect(parseLeaderMessage(bad)).toBeUndefined();
    }
  });
});
