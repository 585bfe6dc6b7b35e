import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, openEvents, request, signIn, testStore } from './helpers.ts';

let harness: Awaited<ReturnType<typeof createHarness>>;
beforeEach(async () => {
  harness = await createHarness();
});
afterEach(async () => {
  await harness.cleanup();
});

const ticks = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

/**
 * A JWKS endpoint that answers only when told, so an exchange is reliably in flight: `requested`
 * resolves once the server asked for the keys.
 */
async function startHeldJwksServer() {
  let held: ServerResponse | undefined;
  let onRequest: () => void = () => {};
  const requested = new Promise<void>((resolve) => (onRequest = resolve));
  const jwksServer = createServer((_req, res) => {
    held = res;
    onRequest();
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  const { port } = jwksServer.address() as AddressInfo;
  return {
    jwksUrl: `http://127.0.0.1:${port}/jwks.json`,
    requested,
    answer: (jwks: unknown) =>
      held?.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks)),
    close: async () => {
      held?.destroy();
      await new Promise((resolve) => jwksServer.close(resolve));
    },
  };
}

describe('graceful shutdown', () => {
  it('ends SSE streams, closes the database cleanly, and refuses new connections', async () => {
    const database = await harness.newDatabase('shutdown');
    const server = await harness.start({ database });
    const { accessToken, conversationId } = await signIn(server, harness.idp, 'alice');
    const events = await openEvents(server, conversationId, accessToken);
    expect(server.openStreams).toBe(1);

    await server.close();
    expect(await events.next()).toBeUndefined();
    expect(server.openStreams).toBe(0);
    // A clean close checkpoints and removes SQLite's write-ahead log.
    if (testStore === 'sqlite') expect(existsSync(`${database}-wal`)).toBe(false);
    await (await harness.openStore(database)).close();
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
    // Idempotent.
    await server.close();
  });

  it('lets in-flight requests finish before closing', async () => {
    const jwks = await startHeldJwksServer();
    try {
      const server = await harness.start({ jwks: undefined, jwksUrl: jwks.jwksUrl });
      const inFlight = request(server, 'POST', '/v1/authorization', {
        body: { identityToken: await harness.idp.mint({ sub: 'alice' }) },
      });
      await jwks.requested;

      let closed = false;
      const closing = server.close().then(() => (closed = true));
      await ticks(20);
      expect(closed).toBe(false);

      jwks.answer(harness.idp.jwks);
      const answer = await inFlight;
      expect(answer.status).toBe(200);
      expect(answer.body.subject.sub).toBe('alice');
      await closing;
      expect(closed).toBe(true);
    } finally {
      await jwks.close();
    }
  });

  it('cuts requests that outlive the shutdown timeout', async () => {
    const jwks = await startHeldJwksServer();
    try {
      const server = await harness.start({ jwks: undefined, jwksUrl: jwks.jwksUrl, shutdownTimeoutMs: 50 });
      const inFlight = request(server, 'POST', '/v1/authorization', {
        body: { identityToken: await harness.idp.mint({ sub: 'alice' }) },
      }).catch((error: unknown) => error);
      await jwks.requested;
      await server.close();
      expect(await inFlight).toBeInstanceOf(Error);
    } finally {
      await jwks.close();
    }
  });
});
