import { describe, expect, it } from 'vitest';
import {
  CLIENT_MESSAGE_ID_LIMIT,
  MESSAGE_TEXT_LIMIT,
  isClientMessageId,
  isMessageText,
  messageTextLength,
} from '../../src/core/message-rules.ts';

describe('message text rule', () => {
  it('counts code points: an astral character is one, not two UTF-16 units', () => {
    expect(messageTextLength('')).toBe(0);
    expect(messageTextLength('abc')).toBe(3);
    expect(messageTextLength('😀')).toBe(1);
    expect('😀'.length).toBe(2);
    expect(messageTextLength('a😀b𝄞')).toBe(4);
  });

  it('accepts exactly the limit and refuses one over, in ASCII', () => {
    expect(isMessageText('a'.repeat(MESSAGE_TEXT_LIMIT))).toBe(true);
    expect(isMessageText('a'.repeat(MESSAGE_TEXT_LIMIT + 1))).toBe(false);
  });

  it('accepts exactly the limit and refuses one over, in astral characters', () => {
    const atLimit = '😀'.repeat(MESSAGE_TEXT_LIMIT);
    expect(atLimit.length).toBe(2 * MESSAGE_TEXT_LIMIT);
    expect(isMessageText(atLimit)).toBe(true);
    expect(isMessageText(`${atLimit}😀`)).toBe(false);
    expect(isMessageText(`${atLimit}a`)).toBe(false);
  });

  it('takes a limit of its own', () => {
    expect(isMessageText('😀😀😀', 3)).toBe(true);
    expect(isMessageText('😀😀😀😀', 3)).toBe(false);
  });

  it('refuses blank text and anything that is not a string', () => {
    for (const text of ['', ' ', '\n\t ', undefined, null, 42, ['hi'], { text: 'hi' }]) {
      expect(isMessageText(text), JSON.stringify(text)).toBe(false);
    }
    expect(isMessageText(' hi ')).toBe(true);
  });
});

describe('client message id rule', () => {
  it('accepts a UUID and exactly the limit, refuses one over', () => {
    expect(isClientMessageId(crypto.randomUUID())).toBe(true);
    expect(isClientMessageId('x')).toBe(true);
    expect(isClientMessageId('x'.repeat(CLIENT_MESSAGE_ID_LIMIT))).toBe(true);
    expect(isClientMessageId('x'.repeat(CLIENT_MESSAGE_ID_LIMIT + 1))).toBe(false);
  });

  it('refuses the empty id, spaces, control and non-ASCII characters, and non-strings', () => {
    for (const id of ['', 'a b', 'a\nb', 'a\u007fb', 'é', '😀', undefined, null, 7]) {
      expect(isClientMessageId(id), JSON.stringify(id)).toBe(false);
    }
    expect(isClientMessageId('!~')).toBe(true);
  });
});
