import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness } from './helpers.ts';

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
