/**
 * The reference server's HTTP API as data shapes: what `src/server` answers and what the
 * worker's clients send. One definition, so the two cannot drift apart.
 */
import type { ConversationEntry, Subject } from './protocol.ts';

/** `POST /v1/authorization` body. */
export interface ExchangeRequest {
  identityToken: string;
}

/** `POST /v1/authorization` answer: an authorization token with the server's own lifetime (R4). */
export interface ExchangeResponse {
  accessToken: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
  subject: Subject;
}

/** `POST /v1/conversations` answer: the subject's open conversation, created if none. */
export interface ConversationResponse {
  conversationId: string;
  status: 'open' | 'ended';
}

/** `GET /v1/conversations/:id/entries?after=N` answer. */
export interface EntriesResponse {
  entries: ConversationEntry[];
}

/** `POST /v1/conversations/:id/messages` body; the same `clientMessageId` twice stores one message. */
export interface PostMessageRequest {
  clientMessageId: string;
  text: string;
}

/** `POST /v1/conversations/:id/messages` answer. */
export interface PostMessageResponse {
  entry: ConversationEntry;
}

/** Every error answer: HTTP status plus a tabwarden code. */
export interface ErrorResponse {
  code: string;
  message: string;
}

/** Paths of the API, relative to the server's base URL. */
export const apiPaths = {
  authorization: '/v1/authorization',
  revoke: '/v1/authorization/revoke',
  conversations: '/v1/conversations',
  entries: (conversationId: string) => `/v1/conversations/${encodeURIComponent(conversationId)}/entries`,
  messages: (conversationId: string) => `/v1/conversations/${encodeURIComponent(conversationId)}/messages`,
  end: (conversationId: string) => `/v1/conversations/${encodeURIComponent(conversationId)}/end`,
  events: (conversationId: string) => `/v1/conversations/${encodeURIComponent(conversationId)}/events`,
} as const;
