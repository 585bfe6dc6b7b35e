import { Hono, type Context } from 'hono';
import { isClientMessageId, messageTextLength } from '../../core/message-rules.ts';
import { sameSubject } from '../../core/subject.ts';
import type { ConversationResponse, EntriesResponse, PostMessageResponse } from '../../core/server-api.ts';
import { ApiError, badRequest } from '../api-error.ts';
import type { AppEnv, AppServices } from '../app-services.ts';
import { authenticate } from '../authenticate.ts';
import { readJsonObject } from '../read-json-object.ts';
import type { ServerStore } from '../store.ts';

const CONVERSATION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SEQ = /^(0|[1-9][0-9]{0,15})$/;
const CLOSING_TEXT = 'The conversation has ended.';

function parseSeq(value: string | undefined, what: string): number {
  if (value === undefined || value === '') return 0;
  if (!SEQ.test(value) || !Number.isSafeInteger(Number(value))) {
    throw badRequest(`${what} must be a whole number of at least 0`);
  }
  return Number(value);
}

/** The conversation, if it is the caller's; another subject's looks exactly like a missing one. */
async function ownConversation(store: ServerStore, c: Context<AppEnv>) {
  const id = c.req.param('id') ?? '';
  const conversation = CONVERSATION_ID.test(id) ? await store.conversation(id) : undefined;
  if (!conversation || !sameSubject(conversation.subject, c.get('auth').subject)) {
    throw new ApiError(404, 'ERR_NOT_FOUND', 'No such conversation');
  }
  return conversation;
}

/**
 * The conversation routes, to mount at `/v1/conversations`, all behind the bearer's authorization
 * token: open (or reopen) the caller's conversation, read its entries, post a message (answered
 * by the demo agent), end it, and follow it as server-sent events.
 *
 * @example
 * ```ts
 * app.route('/v1/conversations', conversationRoutes(services));
 * ```
 */
export function conversationRoutes(
  services: Pick<AppServices, 'options' | 'store' | 'accessTokens' | 'streams' | 'agent'>,
): Hono<AppEnv> {
  const { options, store, accessTokens, streams, agent } = services;
  const clock = options.clock;
  const app = new Hono<AppEnv>();

  // Mounted at /v1/conversations, `*` matches `/v1/conversations` itself too.
  app.use('*', async (c, next) => {
    c.set('auth', await authenticate(accessTokens, c));
    await next();
  });

  app.post('/', async (c) => {
    const { conversation, created } = await store.openConversation(c.get('auth').subject, clock.now());
    const answer: ConversationResponse = {
      conversationId: conversation.conversationId,
      status: conversation.status,
    };
    return c.json(answer, created ? 201 : 200);
  });

  app.get('/:id/entries', async (c) => {
    const conversation = await ownConversation(store, c);
    const after = parseSeq(c.req.query('after'), 'after');
    const answer: EntriesResponse = { entries: await store.entriesAfter(conversation.conversationId, after) };
    return c.json(answer);
  });

  app.post('/:id/messages', async (c) => {
    const conversation = await ownConversation(store, c);
    const body = await readJsonObject(c);
    const { clientMessageId, text } = body;
    if (typeof clientMessageId !== 'string' || !isClientMessageId(clientMessageId)) {
      throw badRequest('clientMessageId must be 1 to 128 printable ASCII characters');
    }
    if (typeof text !== 'string' || text.trim() === '') throw badRequest('text must be a non-empty string');
    if (messageTextLength(text) > options.messageTextLimit) {
      throw badRequest(`text is longer than ${options.messageTextLimit} characters`);
    }
    const result = await store.appendEntry(
      conversation.conversationId,
      { role: 'user', text, clientMessageId },
      clock.now(),
    );
    if (!result) throw new ApiError(409, 'ERR_CONVERSATION_ENDED', 'The conversation has ended');
    // A retried delivery carries the same text; another text under the same id is a client bug
    // that must not pass for success (its text would silently be lost).
    if (!result.created && result.entry.text !== text) {
      throw new ApiError(
        409,
        'ERR_MESSAGE_ID_REUSED',
        'This clientMessageId was already used for a different text; use a new id for a new message',
      );
    }
    if (result.created) agent.answer(result.entry);
    const answer: PostMessageResponse = { entry: result.entry };
    return c.json(answer, result.created ? 201 : 200);
  });

  app.post('/:id/end', async (c) => {
    const conversation = await ownConversation(store, c);
    // The store announces the closing entry and the end to every instance's streams.
    await store.endConversation(
      conversation.conversationId,
      { role: 'system', text: CLOSING_TEXT },
      clock.now(),
    );
    const answer: ConversationResponse = { conversationId: conversation.conversationId, status: 'ended' };
    return c.json(answer);
  });

  app.get('/:id/events', async (c) => {
    const conversation = await ownConversation(store, c);
    const afterSeq = parseSeq(c.req.header('last-event-id'), 'Last-Event-ID');
    // An id the server never sent would silently skip every entry up to it.
    if (afterSeq > 0 && afterSeq > (await store.lastSeq(conversation.conversationId))) {
      throw new ApiError(
        400,
        'ERR_LAST_EVENT_ID_AHEAD',
        "Last-Event-ID is beyond the conversation's last entry",
      );
    }
    const { jti, expiresAt } = c.get('auth');
    return streams.open({ conversationId: conversation.conversationId, afterSeq, jti, expiresAt });
  });

  return app;
}
