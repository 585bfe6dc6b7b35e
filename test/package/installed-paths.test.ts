// The installed server and startTestServer() serve the package's portal and bundles whatever the
// working folder: a user's project has neither `public/` nor `dist/bundles/` of tabwarden's.
// Needs `npm run build` (npm test builds first).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { startTestServer } from '../../src/testing/index.ts';

let projectDir: string;
let startedIn: string;
beforeEach(() => {
  startedIn = process.cwd();
  projectDir = mkdtempSync(join(tmpdir(), 'tabwarden-user-project-'));
  process.chdir(projectDir);
});
afterEach(() => {
  process.chdir(startedIn);
  rmSync(projectDir, { recursive: true, force: true });
});

it("startTestServer serves the package's worker and portal from another working folder", async () => {
  const server = await startTestServer();
  try {
    const worker = await fetch(`${server.url}/bundles/tabwarden-sw.js`);
    expect(worker.status).toBe(200);
    expect(worker.headers.get('service-worker-allowed')).toBe('/');
    expect(await worker.text()).toContain('tabwarden');
    const portal = await fetch(`${server.url}/`);
    expect(portal.status).toBe(200);
    expect(await portal.text()).toContain('/bundles/');
  } finally {
    await server.close();
  }
});
