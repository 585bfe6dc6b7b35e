import { request as httpRequest } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apiPaths } from '../../src/core/server-api.ts';
import { createHarness, exchange, request, signIn } from './helpers.ts';

let harness: Awaited<ReturnType<typeof createHarness>>;
beforeEach(async () => {
  harness = await createHarness();
});
afterEach(async () => {
  await harness.cleanup();
});

/** Sends a chunked body (no Content-Length), so the limit must be enforced while reading. */
function postChunked(url: string, path: string, chunks: string[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    // The server may answer 413 and close before the whole body is sent.
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

describe('malformed and oversize input', () => {
  it('answers 400 with a code for malformed JSON, a wrong content type and missing fields, and stays up', async () => {
    const server = await harness.start({ agentReplyDelayMs: 60_000 });
    const { accessToken, conversationId } = await signIn(server, harness.idp, 'alice');
    const messages = apiPaths.messages(conversationId);
    const cases: Array<[string, Parameters<typeof request>[3] & { path: string }]> = [
      ['malformed JSON', { path: '/v1/authorization', rawBody: '{"identityToken":', headers: json() }],
      ['empty body', { path: '/v1/authorization', rawBody: '', headers: json() }],
      ['a JSON array', { path: '/v1/authorization', body: ['x'] }],
      ['JSON null', { path: '/v1/authorization', rawBody: 'null', headers: json() }],
      [
        'text/plain',
        {
          path: '/v1/authorization',
          rawBody: '{"identityToken":"x"}',
          headers: { 'content-type': 'text/plain' },
        },
      ],
      ['no content type', { path: '/v1/authorization', rawBody: '{"identityToken":"x"}' }],
      ['no identityToken', { path: '/v1/authorization', body: {} }],
      ['message without text', { path: messages, accessToken, body: { clientMessageId: 'a' } }],
      [
        'message with empty text',
        { path: messages, accessToken, body: { clientMessageId: 'a', text: '  ' } },
      ],
      ['message with numeric text', { path: messages, accessToken, body: { clientMessageId: 'a', text: 5 } }],
      ['message without client id', { path: messages, accessToken, body: { text: 'hi' } }],
      [
        'client id too long',
        { path: messages, accessToken, body: { clientMessageId: 'x'.repeat(129), text: 'hi' } },
      ],
      [
        'client id with spaces',
        { path: messages, accessToken, body: { clientMessageId: 'a b', text: 'hi' } },
      ],
      ['message as form data', { path: messages, accessToken, rawBody: 'text=hi', headers: form() }],
    ];
    for (const [name, { path, ...options }] of cases) {
      const { status, body } = await request(server, 'POST', path, options);
      expect({ name, status, code: body.code }).toEqual({ name, status: 400, code: 'ERR_INVALID_ARGUMENT' });
    }
    // Nothing half-written: no entry was stored by any of that.
    const { body } = await request(server, 'GET', apiPaths.entries(conversationId), { accessToken });
    expect(body.entries).toEqual([]);
    // And the next good request is answered.
    await exchange(server, await harness.idp.mint({ sub: 'alice' }));
  });

  it('answers 413 ERR_PAYLOAD_TOO_LARGE over the body limit, with or without Content-Length', async () => {
    const server = await harness.start({ bodyLimitBytes: 1024 });
    const big = JSON.stringify({ identityToken: 'x'.repeat(2000) });
    const declared = await request(server, 'POST', '/v1/authorization', { rawBody: big, headers: json() });
    expect(declared.status).toBe(413);
    expect(declared.body.code).toBe('ERR_PAYLOAD_TOO_LARGE');
    const chunked = await postChunked(server.url, '/v1/authorization', [big.slice(0, 600), big.slice(600)]);
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.body).code).toBe('ERR_PAYLOAD_TOO_LARGE');
    // Just under the limit is parsed (and refused for what it is, not for its size).
    const small = await request(server, 'POST', '/v1/authorization', {
      body: { identityToken: 'x'.repeat(900) },
    });
    expect(small.status).toBe(401);
    await exchange(server, await harness.idp.mint({ sub: 'alice' }));
  });

  it('reads a chunked body under the limit like a declared one: the exchange succeeds', async () => {
    const server = await harness.start({ bodyLimitBytes: 4096 });
    const body = JSON.stringify({ identityToken: await harness.idp.mint({ sub: 'alice' }) });
    const answer = await postChunked(server.url, '/v1/authorization', [body.slice(0, 100), body.slice(100)]);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body).subject.sub).toBe('alice');
  });

  it('answers 413 for a Content-Length over the limit before reading the body', async () => {
    const server = await harness.start({ bodyLimitBytes: 1024 });
    // Declares 2000 bytes, sends a few: the answer must not wait for the rest.
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(new URL('/v1/authorization', server.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': '2000' },
      });
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.write('{"identityToken":"');
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body).code).toBe('ERR_PAYLOAD_TOO_LARGE');
  });

  it('has a 64 KiB body limit by default', async () => {
    const server = await harness.start();
    const over = await request(server, 'POST', '/v1/authorization', {
      body: { identityToken: 'x'.repeat(64 * 1024) },
    });
    expect(over.status).toBe(413);
  });

  it('answers 400 for message text over the limit (counted in characters) and stores nothing', async () => {
    const server = await harness.start({ messageTextLimit: 10, agentReplyDelayMs: 60_000 });
    const { accessToken, conversationId } = await signIn(server, harness.idp, 'alice');
    const tooLong = await request(server, 'POST', apiPaths.messages(conversationId), {
      accessToken,
      body: { clientMessageId: 'long', text: '12345678901' },
    });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.code).toBe('ERR_INVALID_ARGUMENT');
    // Ten emoji are ten characters, though twenty UTF-16 units.
    const emoji = await request(server, 'POST', apiPaths.messages(conversationId), {
      accessToken,
      body: { clientMessageId: 'emoji', text: '😀'.repeat(10) },
    });
    expect(emoji.status).toBe(201);
    const { body } = await request(server, 'GET', apiPaths.entries(conversationId), { accessToken });
    expect(body.entries.map((e: { clientMessageId: string }) => e.clientMessageId)).toEqual(['emoji']);
  });

  it('answers unknown routes and methods with 404 JSON', async () => {
    const server = await harness.start();
    const unknown = await request(server, 'GET', '/v1/nothing-here');
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('ERR_NOT_FOUND');
    expect((await request(server, 'GET', '/v1/authorization')).status).toBe(404);
  });
});

function json() {
  return { 'content-type': 'application/json' };
}

function form() {
  return { 'content-type': 'application/x-www-form-urlencoded' };
}
