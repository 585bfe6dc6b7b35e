import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, request } from './helpers.ts';

let harness: Awaited<ReturnType<typeof createHarness>>;
afterEach(() => harness?.cleanup());

describe('onRequest', () => {
  it('R4: sees every request as it arrives, with method and path but never the query', async () => {
    harness = await createHarness();
    const seen: Array<{ method: string; path: string }> = [];
    const server = await harness.start({ onRequest: (r) => void seen.push(r) });
    const token = await harness.idp.mint({ sub: 'alice' });
    await request(server, 'POST', '/v1/authorization', { body: { identityToken: token } });
    await request(server, 'GET', '/healthz?secret=abc');
    await request(server, 'POST', '/v1/authorization', { rawBody: '{' });
    expect(seen).toEqual([
      { method: 'POST', path: '/v1/authorization' },
      { method: 'GET', path: '/healthz' },
      { method: 'POST', path: '/v1/authorization' },
    ]);
  });

  it('a function onRequest returns gets the status each request was answered with', async () => {
    harness = await createHarness();
    const answered: string[] = [];
    const server = await harness.start({
      onRequest: (r) => (status) => answered.push(`${r.method} ${r.path} ${status}`),
    });
    await request(server, 'GET', '/healthz');
    await request(server, 'POST', '/v1/authorization', { rawBody: '{' });
    expect(answered).toEqual(['GET /healthz 200', 'POST /v1/authorization 400']);
  });
});
