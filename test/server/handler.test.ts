import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apiPaths } from '../../src/core/server-api.ts';
import { createTabwardenHandler, type TabwardenHandler } from '../../src/server/index.ts';
import { createHarness, exchange, openEvents, request, testOptions } from './helpers.ts';

let harness: Awaited<ReturnType<typeof createHarness>>;
let handler: TabwardenHandler | undefined;
let server: Server | undefined;
beforeEach(async () => {
  harness = await createHarness();
});
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  await handler?.close();
  await harness.cleanup();
});

describe('createTabwardenHandler: the routes mounted in a server of your own', () => {
  it('serves exchange, conversations and events from a plain node:http server beside its own routes', async () => {
    const mounted = await createTabwardenHandler({
      ...testOptions(harness.idp, harness.dir),
      database: harness.database,
      agentReplyDelayMs: 10,
      exchangesPerAddressPerMinute: 1,
    });
    handler = mounted;
    const http = createServer((req, res) => {
      if (req.url?.startsWith('/v1/')) return mounted.nodeListener(req, res);
      res.setHeader('content-type', 'text/plain');
      res.end('my own page');
    });
    server = http;
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

    expect(await (await fetch(`${url}/`)).text()).toBe('my own page');
    const { accessToken } = await exchange({ url }, await harness.idp.mint({ sub: 'alice' }));
    // The per-address limit sees the socket's address through the mounted listener.
    const limited = await request({ url }, 'POST', '/v1/authorization', {
      body: { identityToken: await harness.idp.mint({ sub: 'alice' }) },
    });
    expect(limited.status).toBe(429);
    const opened = await request({ url }, 'POST', apiPaths.conversations, { accessToken });
    expect(opened.status).toBe(201);
    const conversationId = opened.body.conversationId as string;
    const events = await openEvents({ url }, conversationId, accessToken);
    await request({ url }, 'POST', apiPaths.messages(conversationId), {
      accessToken,
      body: { clientMessageId: 'm1', text: 'hello from a mounted handler' },
    });
    expect((await events.nextEntry()).text).toBe('hello from a mounted handler');
    expect((await events.nextEntry()).role).toBe('agent');
    expect(mounted.openStreams).toBe(1);

    // close() ends the streams and the store; the host server stays up and answers its own routes.
    await mounted.close();
    expect(await events.next()).toBeUndefined();
    const after = await request({ url }, 'POST', apiPaths.conversations, { accessToken });
    expect(after.status).toBe(503);
    expect(await (await fetch(`${url}/`)).text()).toBe('my own page');
  });

  it('as a fetch handler: a web Request in, a Response out, static files not served', async () => {
    // A portal folder that startServer would serve at /: a mounted handler leaves files to its host.
    const staticDir = join(harness.dir, 'public');
    mkdirSync(staticDir);
    writeFileSync(join(staticDir, 'index.html'), '<h1>portal</h1>');
    const mounted = await createTabwardenHandler({
      ...testOptions(harness.idp, harness.dir),
      database: harness.database,
      staticDir,
    });
    handler = mounted;
    const health = await mounted.fetch(new Request('http://tabwarden.test/healthz'));
    expect(await health.json()).toEqual({ ok: true });
    const exchanged = await mounted.fetch(
      new Request('http://tabwarden.test/v1/authorization', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ identityToken: await harness.idp.mint({ sub: 'alice' }) }),
      }),
    );
    expect(exchanged.status).toBe(200);
    expect((await mounted.fetch(new Request('http://tabwarden.test/index.html'))).status).toBe(404);
  });
});
