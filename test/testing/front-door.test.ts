import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openFrontDoor, type FrontDoor } from '../../src/testing/front-door.ts';

let target: Server;
let door: FrontDoor;
let reached: string[];

beforeEach(async () => {
  reached = [];
  target = createServer((request, response) => {
    reached.push(`${request.method} ${request.url}`);
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.end(`hello from ${request.url}`);
  });
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  door = await openFrontDoor(`http://127.0.0.1:${(target.address() as AddressInfo).port}`);
});
afterEach(async () => {
  await door.close();
  await new Promise((resolve) => target.close(resolve));
});

describe('openFrontDoor', () => {
  it('passes requests through and counts them by route as they arrive', async () => {
    const answer = await fetch(`${door.url}/v1/conversations/c1/messages?x=1`, {
      method: 'POST',
      body: 'hi',
    });
    expect(await answer.text()).toBe('hello from /v1/conversations/c1/messages?x=1');
    await fetch(`${door.url}/v1/conversations/c1/entries`);
    expect(door.count('POST /v1/conversations/:id/messages')).toBe(1);
    expect(door.count('GET /v1/conversations/:id/messages')).toBe(0);
    expect(door.count('/v1/conversations/:id/entries')).toBe(1);
    expect(door.count('*')).toBe(2);
    expect(reached).toHaveLength(2);
  });

  it('fails a route with a status and a coded body, without reaching the server', async () => {
    door.setFault('POST /v1/authorization', { kind: 'fail', status: 503, code: 'ERR_TEST_FAULT' });
    const answer = await fetch(`${door.url}/v1/authorization`, { method: 'POST', body: '{}' });
    expect(answer.status).toBe(503);
    expect(await answer.json()).toMatchObject({ code: 'ERR_TEST_FAULT' });
    expect(reached).toEqual([]);
    expect(door.requests()).toEqual([{ method: 'POST', path: '/v1/authorization', fault: 'fail' }]);
  });

  it('cuts a route: the client sees a network error; other routes still work', async () => {
    door.setFault('/v1/authorization', { kind: 'cut' });
    await expect(fetch(`${door.url}/v1/authorization`, { method: 'POST' })).rejects.toThrow();
    expect(await (await fetch(`${door.url}/healthz`)).text()).toBe('hello from /healthz');
    door.heal('/v1/authorization');
    expect((await fetch(`${door.url}/v1/authorization`, { method: 'POST' })).status).toBe(200);
  });

  it('slows a route by the delay it was given', async () => {
    door.setFault('*', { kind: 'slow', delayMs: 300 });
    const started = performance.now();
    await (await fetch(`${door.url}/healthz`)).text();
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('holds a route until released: the request is on the wire, then reaches the server and is answered', async () => {
    const held = door.hold('POST /v1/authorization');
    const answer = fetch(`${door.url}/v1/authorization`, { method: 'POST', body: '{"a":1}' });
    await held.arrived();
    expect(reached).toEqual([]);
    expect(door.requests()).toEqual([{ method: 'POST', path: '/v1/authorization', fault: 'hold' }]);
    held.release();
    expect(await (await answer).text()).toBe('hello from /v1/authorization');
    expect(reached).toEqual(['POST /v1/authorization']);
    // Released: later requests pass at once.
    expect((await fetch(`${door.url}/v1/authorization`, { method: 'POST' })).status).toBe(200);
  });

  it('a held request whose sender gave up still reaches the server on release, as one already sent would', async () => {
    const held = door.hold('/v1/conversations/:id/messages');
    const sender = new AbortController();
    const sent = fetch(`${door.url}/v1/conversations/c1/messages`, {
      method: 'POST',
      body: 'hi',
      signal: sender.signal,
    });
    await held.arrived();
    sender.abort();
    await expect(sent).rejects.toThrow();
    held.release();
    await expect.poll(() => reached, { timeout: 2_000 }).toEqual(['POST /v1/conversations/c1/messages']);
  });

  it('a held route never released is a server that hangs; arrived() fails when nothing arrives', async () => {
    const held = door.hold('POST /v1/authorization');
    await expect(held.arrived(50)).rejects.toThrow(
      'no request of POST /v1/authorization arrived within 50 ms',
    );
    const hanging = fetch(`${door.url}/v1/authorization`, {
      method: 'POST',
      signal: AbortSignal.timeout(200),
    });
    await expect(hanging).rejects.toThrow();
    door.heal();
    expect((await fetch(`${door.url}/healthz`)).status).toBe(200);
    expect(reached).toEqual(['GET /healthz']);
  });

  it('makes a script byte-different per version, as a new deploy would', async () => {
    const first = await (await fetch(`${door.url}/bundles/tabwarden-sw.js?config=x`)).text();
    door.setScriptVersion('tabwarden-sw.js', 1);
    const second = await (await fetch(`${door.url}/bundles/tabwarden-sw.js?config=x`)).text();
    expect(second).not.toBe(first);
    expect(second.startsWith(first)).toBe(true);
  });
});

describe('openFrontDoor in front of several servers', () => {
  it('R15: takes turns, skips a server that refuses the connection, says which answered, and can be retargeted', async () => {
    const second = createServer((_request, response) => response.end('second'));
    await new Promise<void>((resolve) => second.listen(0, '127.0.0.1', resolve));
    const secondUrl = `http://127.0.0.1:${(second.address() as AddressInfo).port}`;
    const firstUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
    // A port nothing listens on: as an instance that was killed.
    const gone = createServer();
    await new Promise<void>((resolve) => gone.listen(0, '127.0.0.1', resolve));
    const goneUrl = `http://127.0.0.1:${(gone.address() as AddressInfo).port}`;
    await new Promise((resolve) => gone.close(resolve));
    const balanced = await openFrontDoor([firstUrl, secondUrl, goneUrl]);
    try {
      const answers = [];
      for (let i = 0; i < 3; i++) answers.push(await (await fetch(`${balanced.url}/n${i}`)).text());
      expect(answers).toEqual(['hello from /n0', 'second', 'hello from /n2']);
      expect(balanced.requests().map((request) => request.backend)).toEqual([firstUrl, secondUrl, firstUrl]);

      balanced.retarget(secondUrl);
      expect(await (await fetch(`${balanced.url}/after`)).text()).toBe('second');
    } finally {
      await balanced.close();
      await new Promise((resolve) => second.close(resolve));
    }
  });
});
