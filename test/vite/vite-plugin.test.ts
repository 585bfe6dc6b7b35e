// tabwarden/vite: the worker files reach a Vite app's dev server and its build, at the URLs the
// page reads from virtual:tabwarden/workers. Needs `npm run build` (npm test builds first).
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { build, createServer } from 'vite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PACKAGE_BUNDLES_DIR } from '../../src/server/package-files.ts';
import { tabwarden, WORKER_FILES } from '../../src/vite/index.ts';

let appDir: string;
beforeEach(() => {
  appDir = mkdtempSync(join(tmpdir(), 'tabwarden-vite-app-'));
  writeFileSync(join(appDir, 'index.html'), '<!doctype html><script type="module" src="./main.js"></script>');
  writeFileSync(
    join(appDir, 'main.js'),
    "import workers from 'virtual:tabwarden/workers';\nconsole.log(JSON.stringify(workers));\n",
  );
});
afterEach(() => rmSync(appDir, { recursive: true, force: true }));

const shipped = (file: string) => readFileSync(join(PACKAGE_BUNDLES_DIR, file));

describe('tabwarden/vite', () => {
  it('emits the worker files at the root of the build, under base, and gives the page their URLs', async () => {
    const outDir = join(appDir, 'dist');
    await build({
      root: appDir,
      base: '/app/',
      configFile: false,
      logLevel: 'silent',
      plugins: [tabwarden()],
    });
    for (const file of Object.values(WORKER_FILES)) {
      expect(readFileSync(join(outDir, file)).equals(shipped(file)), file).toBe(true);
    }
    const pageCode = readdirSync(join(outDir, 'assets'))
      .filter((file) => file.endsWith('.js'))
      .map((file) => readFileSync(join(outDir, 'assets', file), 'utf8'))
      .join('\n');
    expect(pageCode).toContain('/app/tabwarden-sw.js');
    expect(pageCode).toContain('/app/tabwarden-shared-worker.js');
    expect(pageCode).toContain('/app/tabwarden-in-page-host.js');
  });

  it('serves the worker files in dev with Service-Worker-Allowed for the whole site', async () => {
    const server = await createServer({
      root: appDir,
      configFile: false,
      logLevel: 'silent',
      plugins: [tabwarden({ dir: 'tw/' })],
      server: { host: '127.0.0.1', port: 0, ws: false },
    });
    await server.listen();
    try {
      const { port } = server.httpServer!.address() as AddressInfo;
      const response = await fetch(`http://127.0.0.1:${port}/tw/tabwarden-sw.js?config=x`);
      expect(response.status).toBe(200);
      expect(response.headers.get('service-worker-allowed')).toBe('/');
      expect(response.headers.get('content-type')).toContain('javascript');
      expect(Buffer.from(await response.arrayBuffer()).equals(shipped('tabwarden-sw.js'))).toBe(true);
      const page = await server.transformRequest('virtual:tabwarden/workers');
      expect(page?.code).toContain('"/tw/tabwarden-sw.js"');
    } finally {
      await server.close();
    }
  });

  it('refuses a dir that would leave the site or is not a folder', () => {
    for (const dir of ['/abs/', '../up/', 'no-slash'])
      expect(() => tabwarden({ dir })).toThrow(/dir must be/);
  });
});
