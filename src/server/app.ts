import { existsSync } from 'node:fs';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { getConnInfo } from '@hono/node-server/conninfo';
import { serveStatic } from '@hono/node-server/serve-static';
import { IdentityTokenError, TabwardenError } from '../core/errors.ts';
import { isClientMessageId, messageTextLength } from '../core/message-rules.ts';
import { sameSubject, type Subject } from '../core/protocol.ts';
import { isRecord } from '../core/validate-message.ts';
import type {
  ConversationResponse,
  EntriesResponse,
  ExchangeResponse,
  PostMessageResponse,
} from '../core/server-api.ts';
import type { IdentityTokenVerifier } from '../core/verify-identity-token.ts';
import type { AccessTokenClaims, AccessTokens } from './access-tokens.ts';
import { ApiError, badRequest } from './api-error.ts';
import type { DemoAgent } from './demo-agent.ts';
import { DEMO_MAX_LIFETIME_SECONDS, type DemoIdentityProvider } from './demo-identity-provider.ts';
import { createDemoLogin } from './demo-login.ts';
import { redactToken, type ServerLog } from './log.ts';
import type { ResolvedServerOptions } from './options.ts';
import type { RateLimiter } from './rate-limit.ts';
import type { EntryStreams } from './sse.ts';
import type { ServerStore } from './store.ts';

/** Everything the routes use, built once by `createTabwardenHandler`. */
export interface AppServices {
  options: ResolvedServerOptions;
  store: ServerStore;
  verifier: IdentityTokenVerifier;
  accessTokens: AccessTokens;
  streams: EntryStreams;
  agent: DemoAgent;
  exchangesPerAddress: RateLimiter;
  exchangesPerSubject: RateLimiter;
  demoIdentityProvider: DemoIdentityProvider | undefined;
  log: ServerLog;
  /** True once shutdown began: new requests are turned away, in-flight ones finish. */
  isClosing(): boolean;
  /** Serve the demo portal and the bundles (the standalone server does; a mounted handler not). */
  serveFiles: boolean;
}

type AppEnv = { Variables: { auth: AccessTokenClaims } };

const CONVERSATION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SEQ = /^(0|[1-9][0-9]{0,15})$/;
const BEARER = /^Bearer +([^\s]+) *$/i;
const CLOSING_TEXT = 'The conversation has ended.';
const DEMO_JWKS_MAX_AGE_SECONDS = 300;

/** The client's address as the socket saw it (no proxy headers are trusted). */
function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Reads a JSON object body, with the checks every JSON route shares. */
async function readJsonObject(c: Context): Promise<Record<string, unknown>> {
  const type = (c.req.header('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') throw badRequest('The body must be JSON (Content-Type: application/json)');
  let value: unknown;
  try {
    value = JSON.parse(await c.req.text());
  } catch {
    throw badRequest('The body is not valid JSON');
  }
  if (!isRecord(value)) throw badRequest('The body must be a JSON object');
  return value;
}

function parseSeq(value: string | undefined, what: string): number {
  if (value === undefined || value === '') return 0;
  if (!SEQ.test(value) || !Number.isSafeInteger(Number(value))) {
    throw badRequest(`${what} must be a whole number of at least 0`);
  }
  return Number(value);
}

function rateLimited(retryAfterSeconds: number, what: string): ApiError {
  return new ApiError(429, 'ERR_RATE_LIMITED', `Too many exchanges from this ${what}; retry later`, {
    headers: { 'retry-after': String(retryAfterSeconds) },
  });
}

/**
 * The reference server's HTTP application (Hono): the API of `src/core/server-api.ts`, the demo
 * identity provider in demo mode, and the static files of the demo portal.
 *
 * @example
 * ```ts
 * const app = createApp(services);
 * serve({ fetch: app.fetch, port: 8787, hostname: '127.0.0.1' });
 * ```
 */
export function createApp(services: AppServices): Hono<AppEnv> {
  const { options, store, verifier, accessTokens, streams, agent, log } = services;
  const clock = options.clock;
  const app = new Hono<AppEnv>();

  app.onError((error, c) => {
    if (error instanceof ApiError) {
      for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
      return c.json(error.toResponseBody(), error.status as 400);
    }
    // The message of a foreign error may carry anything; the log redacts, the client gets nothing.
    log(`error ${c.req.method} ${c.req.path}: ${error instanceof Error ? error.stack : String(error)}`);
    return c.json({ code: 'ERR_SERVER', message: 'Unexpected internal error' }, 500);
  });
  app.notFound((c) => c.json({ code: 'ERR_NOT_FOUND', message: 'No such route' }, 404));

  app.use('*', async (c, next) => {
    // Shutdown: requests that arrive on kept-alive connections are turned away politely.
    if (!services.isClosing()) return next();
    c.header('connection', 'close');
    return c.json({ code: 'ERR_SERVER', message: 'The server is shutting down' }, 503);
  });
  app.use('*', async (c, next) => {
    const answered = options.onRequest({ method: c.req.method, path: c.req.path });
    const started = performance.now();
    await next();
    answered?.(c.res.status);
    // On the answer's own headers: `c.header()` after the handler would rebuild the answer as a
    // stream-bodied Response, which @hono/node-server then writes out the slow way.
    c.res.headers.set('x-content-type-options', 'nosniff');
    // The path only: a query string is never logged, whatever a client put there.
    if (log.enabled) {
      log(`${c.req.method} ${c.req.path} ${c.res.status} ${(performance.now() - started).toFixed(1)}ms`);
    }
  });

  // Nothing the API answers may be cached: the answers carry tokens and private messages. Registered
  // before the body limit, so its 413 carries the header too.
  app.use('/v1/*', async (c, next) => {
    await next();
    c.res.headers.set('cache-control', 'no-store');
  });

  if (options.corsOrigins.length > 0) {
    const corsMiddleware = cors({
      origin: options.corsOrigins,
      allowMethods: ['GET', 'POST', 'OPTIONS'],
      allowHeaders: ['authorization', 'content-type', 'last-event-id'],
      exposeHeaders: ['retry-after'],
      maxAge: 600,
    });
    app.use('/v1/*', corsMiddleware);
    app.use('/demo/*', corsMiddleware);
  }

  const tooLarge = () =>
    new ApiError(
      413,
      'ERR_PAYLOAD_TOO_LARGE',
      `The request body is larger than ${options.bodyLimitBytes} bytes`,
    );
  const limitStreamedBody = bodyLimit({
    maxSize: options.bodyLimitBytes,
    onError: () => {
      throw tooLarge();
    },
  });
  app.use('*', async (c, next) => {
    // Hono's bodyLimit reads `c.req.raw.body`, which makes @hono/node-server build a whole
    // WHATWG Request with a web stream over the socket for every request, GETs included. A
    // declared Content-Length is checked here instead (Node's HTTP parser holds the body to it);
    // only a body without one (chunked) goes through bodyLimit, which counts while reading.
    const method = c.req.method;
    if (method === 'GET' || method === 'HEAD') return next();
    const declared = c.req.header('content-length');
    if (declared === undefined || c.req.header('transfer-encoding') !== undefined) {
      return limitStreamedBody(c, next);
    }
    if (!(Number(declared) <= options.bodyLimitBytes)) throw tooLarge();
    return next();
  });

  app.get('/healthz', (c) => c.json({ ok: true }));

  // --- Authorization -------------------------------------------------------------------------

  app.post('/v1/authorization', async (c) => {
    // Per address first: it is checked before the costly signature check, so a flood of junk
    // tokens is cut off cheaply.
    const address = clientAddress(c);
    const byAddress = services.exchangesPerAddress.take(address);
    if (!byAddress.allowed) throw rateLimited(byAddress.retryAfterSeconds, 'address');

    const body = await readJsonObject(c);
    if (!('identityToken' in body)) throw badRequest('identityToken is required');
    // Whatever its type, the verifier decides and codes the refusal (R13: never trust the client).
    let identity;
    try {
      identity = await verifier.verify(body.identityToken);
    } catch (error) {
      if (!(error instanceof IdentityTokenError)) throw error;
      if (log.enabled) log(`exchange refused ${error.code} token=${redactToken(body.identityToken)}`);
      // Unavailable keys are the server's trouble, not the token's: 503, so clients retry.
      const status = error.code === 'ERR_KEYS_UNAVAILABLE' ? 503 : 401;
      throw new ApiError(status, error.code, error.message);
    }
    const subject: Subject = { iss: identity.iss, sub: identity.sub };
    const bySubject = services.exchangesPerSubject.take(JSON.stringify([subject.iss, subject.sub]));
    if (!bySubject.allowed) throw rateLimited(bySubject.retryAfterSeconds, 'subject');

    const issued = await accessTokens.issue(subject);
    if (log.enabled) log(`exchange ok jti=${issued.jti} token=${redactToken(body.identityToken)}`);
    const answer: ExchangeResponse = {
      accessToken: issued.accessToken,
      expiresAt: issued.expiresAt,
      subject,
    };
    return c.json(answer);
  });

  /** Reads and checks the bearer token; sets `auth`. */
  async function authenticate(
    c: Context<AppEnv>,
    verifyOptions?: { allowExpired?: boolean; allowRevoked?: boolean },
  ): Promise<AccessTokenClaims> {
    const challenge = { 'www-authenticate': 'Bearer error="invalid_token"' };
    const header = c.req.header('authorization');
    const token = header === undefined ? undefined : BEARER.exec(header)?.[1];
    if (header !== undefined && token === undefined) {
      throw new ApiError(
        401,
        'ERR_ACCESS_TOKEN_INVALID',
        'The Authorization header must be "Bearer <token>"',
        {
          headers: challenge,
        },
      );
    }
    try {
      return await accessTokens.verify(token, verifyOptions);
    } catch (error) {
      if (error instanceof TabwardenError && error.code.startsWith('ERR_ACCESS_TOKEN_')) {
        throw new ApiError(401, error.code, error.message, { headers: challenge });
      }
      throw error;
    }
  }

  app.post('/v1/authorization/revoke', async (c) => {
    // Idempotent: revoking an expired or already revoked token of ours is fine.
    const claims = await authenticate(c, { allowExpired: true, allowRevoked: true });
    // The store tells every instance's streams, this one's included.
    await accessTokens.revoke(claims);
    log(`revoked jti=${claims.jti}`);
    return c.json({ revoked: true });
  });

  // --- Conversations -------------------------------------------------------------------------

  // Matches `/v1/conversations` itself too.
  app.use('/v1/conversations/*', async (c, next) => {
    c.set('auth', await authenticate(c));
    await next();
  });

  /** The conversation, if it is the caller's; another subject's looks exactly like a missing one. */
  async function ownConversation(c: Context<AppEnv>) {
    const id = c.req.param('id') ?? '';
    const conversation = CONVERSATION_ID.test(id) ? await store.conversation(id) : undefined;
    if (!conversation || !sameSubject(conversation.subject, c.get('auth').subject)) {
      throw new ApiError(404, 'ERR_NOT_FOUND', 'No such conversation');
    }
    return conversation;
  }

  app.post('/v1/conversations', async (c) => {
    const { conversation, created } = await store.openConversation(c.get('auth').subject, clock.now());
    const answer: ConversationResponse = {
      conversationId: conversation.conversationId,
      status: conversation.status,
    };
    return c.json(answer, created ? 201 : 200);
  });

  app.get('/v1/conversations/:id/entries', async (c) => {
    const conversation = await ownConversation(c);
    const after = parseSeq(c.req.query('after'), 'after');
    const answer: EntriesResponse = { entries: await store.entriesAfter(conversation.conversationId, after) };
    return c.json(answer);
  });

  app.post('/v1/conversations/:id/messages', async (c) => {
    const conversation = await ownConversation(c);
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

  app.post('/v1/conversations/:id/end', async (c) => {
    const conversation = await ownConversation(c);
    // The store announces the closing entry and the end to every instance's streams.
    await store.endConversation(
      conversation.conversationId,
      { role: 'system', text: CLOSING_TEXT },
      clock.now(),
    );
    const answer: ConversationResponse = { conversationId: conversation.conversationId, status: 'ended' };
    return c.json(answer);
  });

  app.get('/v1/conversations/:id/events', async (c) => {
    const conversation = await ownConversation(c);
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

  // --- Demo identity provider (demo mode only) ------------------------------------------------

  const idp = services.demoIdentityProvider;
  if (idp) {
    // Cacheable, as identity providers serve their keys: a restarted worker's key fetch is then a
    // cache hit. Keys rotate by being published ahead of use, for longer than this.
    app.get('/demo/idp/jwks.json', (c) =>
      c.json(idp.jwks, 200, { 'cache-control': `public, max-age=${DEMO_JWKS_MAX_AGE_SECONDS}` }),
    );
    app.post('/demo/idp/token', async (c) => {
      const body = await readJsonObject(c);
      const { sub, expiresInSeconds = 300 } = body;
      if (typeof sub !== 'string' || sub.trim() === '' || sub.length > 256) {
        throw badRequest('sub must be a non-empty string of at most 256 characters');
      }
      if (
        typeof expiresInSeconds !== 'number' ||
        !Number.isInteger(expiresInSeconds) ||
        Math.abs(expiresInSeconds) > DEMO_MAX_LIFETIME_SECONDS
      ) {
        throw badRequest(`expiresInSeconds must be a whole number within ±${DEMO_MAX_LIFETIME_SECONDS}`);
      }
      const minted = await idp.mint({ sub, expiresInSeconds });
      c.header('cache-control', 'no-store');
      return c.json({ ...minted, issuer: idp.issuer });
    });
    // The demo app's own login, a cookie session its tabs share (src/server/demo-login.ts).
    app.route('/demo/session', createDemoLogin({ identityProvider: idp, clock, readJsonObject }));
    // The portal lets a visitor shorten the authorization token's lifetime to watch R5/R6 happen.
    app.get('/demo/settings', (c) =>
      c.json({ accessTokenLifetimeSeconds: services.accessTokens.lifetimeSeconds }),
    );
    app.post('/demo/settings', async (c) => {
      const { accessTokenLifetimeSeconds } = await readJsonObject(c);
      if (
        typeof accessTokenLifetimeSeconds !== 'number' ||
        !Number.isInteger(accessTokenLifetimeSeconds) ||
        accessTokenLifetimeSeconds < 1 ||
        accessTokenLifetimeSeconds > DEMO_MAX_LIFETIME_SECONDS
      ) {
        throw badRequest(
          `accessTokenLifetimeSeconds must be a whole number from 1 to ${DEMO_MAX_LIFETIME_SECONDS}`,
        );
      }
      services.accessTokens.lifetimeSeconds = accessTokenLifetimeSeconds;
      return c.json({ accessTokenLifetimeSeconds });
    });
  }

  // --- Static files: the demo portal and the built bundles -----------------------------------

  if (!services.serveFiles) return app;

  if (existsSync(options.bundlesDir)) {
    app.use(
      '/bundles/*',
      async (c, next) => {
        // Lets a service worker served from /bundles/ control the whole origin.
        c.header('service-worker-allowed', '/');
        await next();
      },
      serveStatic({ root: options.bundlesDir, rewriteRequestPath: (path) => path.replace(/^\/bundles/, '') }),
    );
  }
  if (existsSync(options.staticDir)) app.use('*', serveStatic({ root: options.staticDir }));

  return app;
}
