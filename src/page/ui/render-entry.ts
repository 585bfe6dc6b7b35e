import type { ConversationEntry } from '../../core/protocol.ts';
import { h } from './create-element.ts';
import { SPEAKER } from './speaker.ts';

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

/**
 * One conversation entry as a list item. Text goes in as text (never HTML). Parts: `entry`,
 * `entry-user` / `entry-agent` / `entry-system`, `entry-text`, `entry-time`.
 */
export function renderEntry(entry: ConversationEntry): HTMLLIElement {
  const created = new Date(entry.createdAt);
  const valid = !Number.isNaN(created.getTime());
  return h(
    'li',
    { class: `entry ${entry.role}`, part: `entry entry-${entry.role}` },
    h('span', { class: 'sr-only' }, `${SPEAKER[entry.role] ?? entry.role}: `),
    h('p', { class: 'text', part: 'entry-text' }, entry.text),
    valid
      ? h(
          'time',
          { class: 'time', part: 'entry-time', datetime: created.toISOString() },
          timeFormat.format(created),
        )
      : '',
  );
}
