import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthorizationClient } from '../../src/core/authorization-client.ts';
import { createConversationClient } from '../../src/core/conversation-client.ts';
import { deserializeError, serializeError, TabwardenError } from '../../src/core/errors.ts';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;
let handler: Handler;
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => handler(req, body, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

const json = (res: ServerResponse, status: number, value: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
};

async function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'ok',
    (error: unknown) => (error instanceof TabwardenError ? error.code : `uncoded: ${String(error)}`),
  );
}

describe('createAuthorizationClient', () => {
  it('R4: posts the identity token in the body (never the URL) and returns the grant', async () => {
    let seen: { url?: string; body?: string; type?: string } = {};
    handler = (req, body, res) => {
      seen = { url: req.url ?? '', body, type: req.headers['content-type'] ?? '' };
      json(res, 200, { accessToken: 'a', expiresAt: 5, subject: { iss: 'i', sub: 's' } });
    };
    const client = createAuthorizationClient({ baseUrl });
    expect(await client.exchange('the.identity.token')).toEqual({
      accessToken: 'a',
      expiresAt: 5,
      subject: { iss: 'i', sub: 's' },
    });
    expect(seen).toEqual({
      url: '/v1/authorization',
      body: JSON.stringify({ identityToken: 'the.identity.token' }),
      type: 'application/json',
    });
  });

  it('R5: a 401 is ERR_AUTHORIZATION_FAILED carrying the server code', async () => {
    handler = (_req, _body, res) => json(res, 401, { code: 'ERR_TOKEN_EXPIRED', message: 'expired' });
    const error = await createAuthorizationClient({ baseUrl })
      .exchange('t')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_AUTHORIZATION_FAILED' });
    expect((error as Error).message).toContain('ERR_TOKEN_EXPIRED');
  });

  it('R12: an unreachable server is ERR_NETWORK, a slow one ERR_TIMEOUT, a 500 ERR_SERVER', async () => {
    expect(await codeOf(createAuthorizationClient({ baseUrl: 'http://127.0.0.1:9' }).exchange('t'))).toBe(
      'ERR_NETWORK',
    );
    handler = () => {}; // never answers
    expect(await codeOf(createAuthorizationClient({ baseUrl, timeoutMs: 200 }).exchange('t'))).toBe(
      'ERR_TIMEOUT',
    );
    handler = (_req, _body, res) => json(res, 500, { code: 'ERR_INTERNAL', message: 'boom' });
    expect(await codeOf(createAuthorizationClient({ baseUrl }).exchange('t'))).toBe('ERR_SERVER');
    handler = (_req, _body, res) => res.end('not json at all');
    expect(await codeOf(createAuthorizationClient({ baseUrl }).revoke('a'))).toBe('ok');
  });

  it('R7: revoke sends the access token as a bearer header', async () => {
    let authorization = '';
    handler = (req, _body, res) => {
      authorization = req.headers.authorization ?? '';
      res.writeHead(204).end();
    };
    await createAuthorizationClient({ baseUrl }).revoke('access-9');
    expect(authorization).toBe('Bearer access-9');
  });
});

describe('createConversationClient', () => {
  it('R4/R12: opens, lists after a sequence number, posts and ends with the bearer token', async () => {
    const calls: string[] = [];
    handler = (req, body, res) => {
      calls.push(`${req.method} ${req.url} ${req.headers.authorization} ${body}`);
      if (req.url === '/v1/conversations') return json(res, 200, { conversationId: 'c 1', status: 'open' });
      if (req.url?.startsWith('/v1/conversations/c%201/entries')) return json(res, 200, { entries: [] });
      if (req.url === '/v1/conversations/c%201/messages') return json(res, 200, { entry: { seq: 1 } });
      return json(res, 200, {});
    };
    const client = createConversationClient({ baseUrl });
    const { conversationId } = await client.open('a1');
    expect(await client.listEntries('a1', conversationId, 4)).toEqual([]);
    expect(await client.postMessage('a1', conversationId, { clientMessageId: 'm', text: 'hi' })).toEqual({
      seq: 1,
    });
    await client.end('a1', conversationId);
    expect(calls).toEqual([
      'POST /v1/conversations Bearer a1 ',
      'GET /v1/conversations/c%201/entries?after=4 Bearer a1 ',
      `POST /v1/conversations/c%201/messages Bearer a1 ${JSON.stringify({ clientMessageId: 'm', text: 'hi' })}`,
      'POST /v1/conversations/c%201/end Bearer a1 ',
    ]);
  });

  it("R14: the server's 409/413/429 codes reach the caller unchanged, with the retry delay, across the wire too", async () => {
    const client = createConversationClient({ baseUrl });
    const failure = (promise: Promise<unknown>) =>
      promise.then(
        () => undefined,
        (error: unknown) => error,
      );
    const answers: Array<[number, string, Record<string, string>]> = [
      [409, 'ERR_CONVERSATION_ENDED', {}],
      [413, 'ERR_PAYLOAD_TOO_LARGE', {}],
      [429, 'ERR_RATE_LIMITED', { 'retry-after': '7' }],
    ];
    for (const [status, code, headers] of answers) {
      handler = (_req, _body, res) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify({ code, message: 'from the server' }));
      };
      const error = await failure(client.postMessage('a1', 'c1', { clientMessageId: 'm', text: 'hi' }));
      expect(error, code).toBeInstanceOf(TabwardenError);
      expect((error as TabwardenError).code).toBe(code);
      // What the worker posts to the page, rebuilt there.
      const rebuilt = deserializeError(serializeError(error));
      expect(rebuilt.code).toBe(code);
      expect(rebuilt.retryAfterMs).toBe(code === 'ERR_RATE_LIMITED' ? 7000 : undefined);
    }
    // Codes the client does not know, and 5xx, stay ERR_SERVER.
    handler = (_req, _body, res) => json(res, 418, { code: 'ERR_TEAPOT', message: 'no' });
    expect(await codeOf(client.open('a1'))).toBe('ERR_SERVER');
    handler = (_req, _body, res) => json(res, 503, { code: 'ERR_RATE_LIMITED', message: 'no' });
    expect(await codeOf(client.open('a1'))).toBe('ERR_SERVER');
  });
});
