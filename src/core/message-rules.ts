// What a message must look like, for the chat panel, the worker's engine and the server alike: one
// definition, so a text or an id one of them accepts is never refused by the next.

/**
 * The longest message text, in Unicode code points: what a user counts as characters (an emoji is
 * one, not the two UTF-16 units `String.length` would count).
 */
export const MESSAGE_TEXT_LIMIT = 4000;

/** The longest client message id, in characters (printable ASCII, so one byte each). */
export const CLIENT_MESSAGE_ID_LIMIT = 128;

// Printable ASCII without the space: ids travel in JSON, logs and database keys unescaped.
const CLIENT_MESSAGE_ID = new RegExp(`^[\\x21-\\x7e]{1,${CLIENT_MESSAGE_ID_LIMIT}}$`);

/**
 * The length of `text` in code points.
 *
 * @example
 * ```ts
 * messageTextLength('hi 😀'); // 4 ('hi 😀'.length is 5)
 * ```
 */
export function messageTextLength(text: string): number {
  let length = 0;
  for (const _ of text) length++;
  return length;
}

/**
 * True for a message text: a string that is not blank and has at most `limit` code points.
 *
 * @example
 * ```ts
 * isMessageText('😀'.repeat(4000)); // true
 * isMessageText('   '); // false
 * ```
 */
export function isMessageText(text: unknown, limit: number = MESSAGE_TEXT_LIMIT): text is string {
  return typeof text === 'string' && text.trim() !== '' && messageTextLength(text) <= limit;
}

/**
 * True for a client message id: 1 to {@link CLIENT_MESSAGE_ID_LIMIT} printable ASCII characters,
 * no spaces (a `crypto.randomUUID()` is one).
 *
 * @example
 * ```ts
 * isClientMessageId(crypto.randomUUID()); // true
 * isClientMessageId('with space'); // false
 * ```
 */
export function isClientMessageId(id: unknown): id is string {
  return typeof id === 'string' && CLIENT_MESSAGE_ID.test(id);
}
