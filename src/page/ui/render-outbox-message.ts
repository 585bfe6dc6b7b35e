import type { OutboxMessage } from '../../core/protocol.ts';
import { h } from './create-element.ts';
import { describeError } from './describe-error.ts';
import { SPEAKER } from './speaker.ts';

/** What the user can do with a refused message. */
export interface OutboxActions {
  retry(clientMessageId: string): void;
  discard(clientMessageId: string): void;
}

/** The start of a message's text, to name it in a button's accessible name. */
function excerpt(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/**
 * One message of the outbox (R12) as a list item: its text, and either "Waiting to send" or why
 * it was refused, with Retry and Discard buttons. Parts: `entry`, `entry-user`, `entry-pending` /
 * `entry-failed`, `entry-text`, `entry-state`, `retry-button`, `discard-button`.
 */
export function renderOutboxMessage(message: OutboxMessage, actions: OutboxActions): HTMLLIElement {
  const { status, clientMessageId, text } = message;
  const state =
    status === 'pending'
      ? h('p', { class: 'state', part: 'entry-state' }, 'Waiting to send')
      : h(
          'p',
          { class: 'state', part: 'entry-state' },
          `Not sent. ${describeError(message.error, 'queued')}`,
        );
  const item = h(
    'li',
    { class: `entry user ${status}`, part: `entry entry-user entry-${status}` },
    h('span', { class: 'sr-only' }, `${SPEAKER.user}: `),
    h('p', { class: 'text', part: 'entry-text' }, text),
    state,
  );
  if (status === 'failed') {
    const button = (label: 'Retry' | 'Discard', act: (id: string) => void) => {
      const part = `${label.toLowerCase()}-button`;
      const named = `${label} “${excerpt(text)}”`;
      const element = h('button', { type: 'button', class: 'action', part, 'aria-label': named }, label);
      element.addEventListener('click', () => act(clientMessageId));
      return element;
    };
    item.append(
      h('div', { class: 'actions' }, button('Retry', actions.retry), button('Discard', actions.discard)),
    );
  }
  return item;
}
