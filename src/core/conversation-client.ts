import type { ConversationEntry } from './protocol.ts';
import type { ConversationResponse, EntriesResponse, PostMessageResponse } from './server-api.ts';
import { apiPaths } from './server-api.ts';
import { openEventStream, requestJson, type HttpClientOptions } from './request-json.ts';

/** The conversation half of the reference server's API, called with an authorization token. */
export interface ConversationClient {
  /** Creates or resumes the subject's open conversation. */
  open(accessToken: string): Promise<ConversationResponse>;
  listEntries(accessToken: string, conversationId: string, afterSeq: number): Promise<ConversationEntry[]>;
  /** Idempotent by `clientMessageId`. */
  postMessage(
    accessToken: string,
    conversationId: string,
    message: { clientMessageId: string; text: string },
  ): Promise<ConversationEntry>;
  end(accessToken: string, conversationId: string): Promise<void>;
  /**
   * Opens the conversation's server-sent-event stream after the entry `afterSeq`
   * (`Last-Event-ID`); the authorization token travels in a header, never in the URL. Resolves
   * once the server answered; fails with the same coded errors as every request.
   */
  openEvents(
    accessToken: string,
    conversationId: string,
    afterSeq: number,
    signal: AbortSignal,
  ): Promise<ReadableStream<Uint8Array>>;
}

/**
 * The HTTP conversation client.
 *
 * @example
 * ```ts
 * const conversations = createConversationClient({ baseUrl: 'https://chat.example.com' });
 * const { conversationId } = await conversations.open(accessToken);
 * ```
 */
export function createConversationClient(options: HttpClientOptions): ConversationClient {
  return {
    open(accessToken) {
      return requestJson<ConversationResponse>(options, {
        method: 'POST',
        path: apiPaths.conversations,
        accessToken,
      });
    },
    async listEntries(accessToken, conversationId, afterSeq) {
      const path = `${apiPaths.entries(conversationId)}?after=${afterSeq}`;
      const { entries } = await requestJson<EntriesResponse>(options, { method: 'GET', path, accessToken });
      return entries;
    },
    async postMessage(accessToken, conversationId, message) {
      const { entry } = await requestJson<PostMessageResponse>(options, {
        method: 'POST',
        path: apiPaths.messages(conversationId),
        accessToken,
        body: message,
      });
      return entry;
    },
    async end(accessToken, conversationId) {
      await requestJson<unknown>(options, {
        method: 'POST',
        path: apiPaths.end(conversationId),
        accessToken,
      });
    },
    openEvents(accessToken, conversationId, afterSeq, signal) {
      return openEventStream(options, {
        path: apiPaths.events(conversationId),
        accessToken,
        afterSeq,
        signal,
      });
    },
  };
}
