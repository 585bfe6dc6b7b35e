import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apiPaths } from '../../src/core/server-api.ts';
import { createHarness, exchange, openEvents, request } from './helpers.ts';

let harness: Awaited<ReturnType<typeof createHarness>>;
beforeEach(async () => {
  harness = await createHarness();
});
afterEach(async () => {
  await harness.cleanup();
});

function preflight(url: string, origin: string) {
  return fetch(`${url}/v1/authorization`, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type',
    },
  });
}

describe('static files', () => {
  it('serves the portal at / and the built bundles at /bundles/, and nothing outside them', async () => {
    const staticDir = join(harness.dir, 'public');
    const bundlesDir = join(harness.dir, 'bundles');
    mkdirSync(staticDir);
    mkdirSync(bundlesDir);
    writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>portal</title>');
    writeFileSync(join(bundlesDir, 'sw.js'), 'self.addEventListener("fetch", () => {});');
    writeFileSync(join(harness.dir, 'secret.txt'), 'not for the web');
    const server = await harness.start({ staticDir, bundlesDir });

    const index = await fetch(`${server.url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toContain('text/html');
    expect(await index.text()).toContain('portal');
    const sw = await fetch(`${server.url}/bundles/sw.js`);
    expect(sw.status).toBe(200);
    expect(sw.headers.get('content-type')).toContain('javascript');
    expect(sw.headers.get('service-worker-allowed')).toBe('/');
    for (const path of [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/bundles/../../secret.txt',
      '/missing.html',
    ]) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status, path).toBe(404);
      expect(await response.text()).not.toContain('not for the web');
    }
  });
});

describe('CORS', () => {
  it('is off by default: no cross-origin grant', async () => {
    const server = await harness.start();
    const response = await preflight(server.url, 'https://elsewhere.example');
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('grants exactly the configured origins', async () => {
    const server = await harness.start({ corsOrigins: ['https://app.example'] });
    const allowed = await preflight(server.url, 'https://app.example');
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(allowed.headers.get('access-control-allow-headers')).toContain('authorization');
    const refused = await preflight(server.url, 'https://evil.example');
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('security headers', () => {
  it('every answer carries X-Content-Type-Options: nosniff; API answers also Cache-Control: no-store', async () => {
    const staticDir = join(harness.dir, 'public');
    mkdirSync(staticDir);
    writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>portal</title>');
    const server = await harness.start({ staticDir, bodyLimitBytes: 1024 });
    const { accessToken } = await exchange(server, await harness.idp.mint({ sub: 'alice' }));
    const opened = await request(server, 'POST', apiPaths.conversations, { accessToken });
    const events = await openEvents(server, opened.body.conversationId, accessToken);
    const answers: Array<[string, Headers, boolean]> = [
      ['healthz', (await request(server, 'GET', '/healthz')).headers, false],
      ['a static file', (await fetch(`${server.url}/`)).headers, false],
      ['a 404', (await request(server, 'GET', '/nowhere')).headers, false],
      [
        'an exchange',
        (
          await request(server, 'POST', '/v1/authorization', {
            body: { identityToken: await harness.idp.mint({ sub: 'alice' }) },
          })
        ).headers,
        true,
      ],
      [
        'a refused exchange',
        (await request(server, 'POST', '/v1/authorization', { body: { identityToken: 'x' } })).headers,
        true,
      ],
      [
        'a 413',
        (await request(server, 'POST', '/v1/authorization', { body: { identityToken: 'x'.repeat(2000) } }))
          .headers,
        true,
      ],
      ['an opened conversation', opened.headers, true],
      ['the event stream', events.response.headers, true],
    ];
    events.close();
    for (const [name, headers, api] of answers) {
      expect({ name, nosniff: headers.get('x-content-type-options') }).toEqual({ name, nosniff: 'nosniff' });
      if (api) expect({ name, cache: headers.get('cache-control') }).toEqual({ name, cache: 'no-store' });
    }
  });
});
