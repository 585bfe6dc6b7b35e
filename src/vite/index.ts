// tabwarden/vite: serves tabwarden's worker files in `vite dev` and emits them into `vite build`.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Plugin } from 'vite';
import { PACKAGE_BUNDLES_DIR } from '../server/package-files.ts';

/** The files a page loads by URL, not by import: the two workers and the in-page leader's engine. */
export const WORKER_FILES = {
  serviceWorkerUrl: 'tabwarden-sw.js',
  sharedWorkerUrl: 'tabwarden-shared-worker.js',
  inPageHostUrl: 'tabwarden-in-page-host.js',
} as const;

/** The virtual module that gives the page the URLs the plugin serves the files at. */
const WORKERS_MODULE_ID = 'virtual:tabwarden/workers';

/** Options of {@link tabwarden}. */
export interface TabwardenPluginOptions {
  /**
   * The folder under Vite's `base` the worker files go to, e.g. `'tabwarden/'`. Default `''`:
   * `base` itself, so the service worker's scope covers every page with no header. In another
   * folder the production server must send `Service-Worker-Allowed: <base>` with the service
   * worker (the dev server does).
   */
  dir?: string;
}

/**
 * Serves tabwarden's worker files in `vite dev` (with `Service-Worker-Allowed`) and emits them
 * into the build under Vite's `base`, as vite-plugin-pwa does for workbox. The page reads their
 * URLs and the scope from `virtual:tabwarden/workers` (types: `tabwarden/vite/client`).
 *
 * @example
 * ```ts
 * // vite.config.ts
 * import { defineConfig } from 'vite';
 * import { tabwarden } from 'tabwarden/vite';
 *
 * export default defineConfig({ plugins: [tabwarden()] });
 * ```
 */
export function tabwarden(options: TabwardenPluginOptions = {}): Plugin {
  const dir = options.dir ?? '';
  if (/^\/|\.\.|[?#]/.test(dir) || (dir !== '' && !dir.endsWith('/'))) {
    throw new TypeError(
      `tabwarden(): dir must be a relative folder ending in "/", like "tabwarden/" (got "${dir}")`,
    );
  }
  let base = '/';
  let emit = true;
  const urls = () =>
    Object.fromEntries(
      Object.entries(WORKER_FILES).map(([option, file]) => [option, `${base}${dir}${file}`]),
    );
  return {
    name: 'tabwarden',
    configResolved(config) {
      base = config.base.endsWith('/') ? config.base : `${config.base}/`;
      // An SSR build serves no pages of its own: the client build emits the files.
      emit = !config.build.ssr;
    },
    resolveId(id) {
      return id === WORKERS_MODULE_ID ? `\0${WORKERS_MODULE_ID}` : undefined;
    },
    load(id) {
      if (id !== `\0${WORKERS_MODULE_ID}`) return undefined;
      const values = { ...urls(), serviceWorkerScope: base };
      return [
        ...Object.entries(values).map(([name, value]) => `export const ${name} = ${JSON.stringify(value)};`),
        `export default { ${Object.keys(values).join(', ')} };`,
      ].join('\n');
    },
    configureServer(server) {
      server.middlewares.use((request, response, next) => {
        const path = request.url?.split('?')[0];
        const file = Object.values(WORKER_FILES).find((name) => path === `${base}${dir}${name}`);
        if (!file) return next();
        response.setHeader('content-type', 'text/javascript; charset=utf-8');
        response.setHeader('cache-control', 'no-cache');
        // Lets the service worker control the whole site from any folder.
        response.setHeader('service-worker-allowed', base);
        response.end(readWorkerFile(file));
      });
    },
    generateBundle() {
      if (!emit) return;
      for (const file of Object.values(WORKER_FILES)) {
        this.emitFile({ type: 'asset', fileName: `${dir}${file}`, source: readWorkerFile(file) });
        const map = join(PACKAGE_BUNDLES_DIR, `${file}.map`);
        if (existsSync(map))
          this.emitFile({ type: 'asset', fileName: `${dir}${file}.map`, source: readFileSync(map) });
      }
    },
  };
}

function readWorkerFile(file: string): Buffer {
  const path = join(PACKAGE_BUNDLES_DIR, file);
  if (!existsSync(path))
    throw new Error(`tabwarden: ${path} is missing (in the repository, run npm run build)`);
  return readFileSync(path);
}
