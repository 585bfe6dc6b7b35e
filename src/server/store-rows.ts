// The rows both stores keep, in the same columns, and how they become the API's records.
import type { ConversationEntry } from '../core/protocol.ts';
import type { ConversationRecord } from './store.ts';

export interface EntryRow {
  conversation_id: string;
  seq: number;
  role: ConversationEntry['role'];
  text: string;
  created_at: number;
  client_message_id: string | null;
}

export interface ConversationRow {
  id: string;
  subject_iss: string;
  subject_sub: string;
  status: 'open' | 'ended';
  created_at: number;
  ended_at: number | null;
}

export function toEntry(row: EntryRow): ConversationEntry {
  return {
    conversationId: row.conversation_id,
    seq: row.seq,
    role: row.role,
    text: row.text,
    createdAt: row.created_at,
    ...(row.client_message_id === null ? {} : { clientMessageId: row.client_message_id }),
  };
}

export function toConversation(row: ConversationRow): ConversationRecord {
  return {
    conversationId: row.id,
    subject: { iss: row.subject_iss, sub: row.subject_sub },
    status: row.status,
    createdAt: row.created_at,
    endedAt: row.ended_at,
  };
}
