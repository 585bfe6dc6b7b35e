import type { ConversationEntry } from '../../core/protocol.ts';

/** Who said it, as a screen reader announces it before the text. */
export const SPEAKER: Record<ConversationEntry['role'], string> = {
  user: 'You',
  agent: 'Agent',
  system: 'Notice',
};
