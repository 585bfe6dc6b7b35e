import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { transform as transformCss } from 'lightningcss';
import { defineConfig, type AliasOptions, type Plugin } from 'vite';

/**
 * The browser bundles, each self-contained (a service worker must not depend on shared chunks
 * that an update could swap under it). `scripts/build-bundles.js` builds every entry by setting
 * TABWARDEN_ENTRY; a bare `vite build` builds the page stub.
 */
export const bundleEntries = {
  /** The page stub as an ES module: `import { createTabwarden } from '/bundles/tabwarden.js'`. */
  page: { entry: 'src/page/index.ts', fileName: 'tabwarden.js', format: 'es', side: 'page' },
  /** The script-tag build defining `window.embeddedservice_bootstrap`. */
  snippet: { entry: 'src/page/snippet.ts', fileName: 'tabwarden-snippet.js', format: 'iife', side: 'page' },
  /** The conversation button and chat panel, a separate entry so the stub stays small. */
  ui: { entry: 'src/page/ui/index.ts', fileName: 'tabwarden-ui.js', format: 'es', side: 'page' },
  /**
   * The service worker (R11's first choice), a classic script: Chromium starts a stopped classic
   * service worker about 10 ms sooner than the same code as a module (measured by `npm run bench`,
   * recovery after a worker stop), and browsers without module service workers run it too.
   */
  sw: { entry: 'src/sw/service-worker.ts', fileName: 'tabwarden-sw.js', format: 'iife', side: 'worker' },
  /** The SharedWorker fallback. */
  sharedWorker: {
    entry: 'src/sw/shared-worker.ts',
    fileName: 'tabwarden-shared-worker.js',
    format: 'es',
    side: 'worker',
  },
  /** The engine the leader tab loads for the in-page transport (dynamic import; has jose). */
  inPageHost: {
    entry: 'src/sw/in-page-leader.ts',
    fileName: 'tabwarden-in-page-host.js',
    format: 'es',
    side: 'worker',
  },
} as const;

export type BundleName = keyof typeof bundleEntries;

/** How a bundle's imports resolve (the size bench builds each bundle with these too). */
export function aliasesFor(bundle: (typeof bundleEntries)[BundleName]): AliasOptions {
  return [
    // workbox-window's own modern build (its `workbox.primaryBuild`) rather than the ES5 one its
    // `module` field names: same code without the ES5 class and async helpers (in the page stub,
    // 1.9 → 1.0 kB gzip).
    { find: /^workbox-window$/, replacement: 'workbox-window/build/workbox-window.prod.mjs' },
    // A page script in one file holds its optional parts from the start (optional-parts.ts).
    ...(bundle.side === 'page' && bundle.format === 'iife'
      ? [
          {
            find: /^\.\/optional-parts\.ts$/,
            replacement: fileURLToPath(new URL('src/page/optional-parts.inline.ts', import.meta.url)),
          },
        ]
      : []),
  ];
}

/**
 * The UI's stylesheets are CSS in template literals (constructable stylesheets need no CSS
 * loader, and the published modules stay plain JavaScript). The bundles ship that CSS minified by
 * lightningcss, Vite's own CSS minifier: each literal's text between its `${…}` insertions is a
 * whole list of rules.
 */
function minifyStyleTemplates(): Plugin {
  return {
    name: 'tabwarden:minify-style-templates',
    transform: {
      filter: { id: /[\\/]src[\\/]page[\\/]ui[\\/](theme-css|[a-z-]+-styles)\.ts$/ },
      handler(code, id) {
        // The text parts of every template literal in the module, last first (offsets stay true).
        const quasis: Array<{ start: number; end: number; value: { raw: string } }> = [];
        const visit = (node: unknown): void => {
          if (typeof node !== 'object' || node === null) return;
          if ((node as { type?: string }).type === 'TemplateElement')
            quasis.push(node as (typeof quasis)[number]);
          for (const child of Object.values(node)) visit(child);
        };
        visit(this.parse(code));
        let minified = code;
        for (const { start, end, value } of quasis.sort((a, b) => b.start - a.start)) {
          if (value.raw.trim() === '') continue;
          // Minified as written: an escape would mean one thing to CSS and another to JavaScript.
          if (value.raw.includes('\\')) throw new Error(`${id}: no backslashes in stylesheet literals`);
          // lightningcss prints numbers to 6 significant digits (2147483000 became 2147480000).
          const precise = value.raw
            .match(/\d+(\.\d+)?/g)
            ?.find((n) => n.replace(/\D|^0+|0+$/g, '').length > 6);
          if (precise) throw new Error(`${id}: ${precise} has more than 6 significant digits`);
          const css = transformCss({ filename: id, code: Buffer.from(value.raw), minify: true }).code;
          minified = minified.slice(0, start) + css.toString() + minified.slice(end);
        }
        return { code: minified, map: null };
      },
    },
  };
}

export default defineConfig(() => {
  const name = (process.env.TABWARDEN_ENTRY ?? 'page') as BundleName;
  const bundle = bundleEntries[name];
  if (!bundle || !existsSync(bundle.entry)) throw new Error(`Unknown or missing bundle entry: ${name}`);
  const testClock = process.env.TABWARDEN_TEST_CLOCK === '1';
  return {
    // The test kit's worker clock (src/sw/test-clock.ts) exists only in the test build.
    define: { __TABWARDEN_TEST_CLOCK__: JSON.stringify(testClock) },
    // public/ is the demo portal, served by the reference server; it is not part of a bundle.
    publicDir: false as const,
    plugins: [minifyStyleTemplates()],
    resolve: { alias: aliasesFor(bundle) },
    build: {
      outDir: testClock ? 'dist/test-bundles' : 'dist/bundles',
      emptyOutDir: false,
      // Maps for the worker bundles only: they ship minified and nowhere else, so a stack trace
      // from a worker needs one. The page-side code also ships readable (dist/page, dist/core).
      // The test build (dist/test-bundles) has none: it serves tests, and the tarball stays lean.
      sourcemap: bundle.side === 'worker' && !testClock,
      minify: true,
      target: 'es2022',
      // Vite keeps whitespace in ES library output; these bundles ship as they are, so minify fully.
      rolldownOptions: {
        // The page stub loads its fallback transports with import(). Every module the entry
        // imports statically stays in the entry (the `$initial` group, which the entry may
        // absorb because it may export a few extra bindings for the chunks), so that no module
        // the chunks share with it goes to a common chunk every page would have to load as
        // well. The chunks import the entry as `./tabwarden.js`: a page that loads it under
        // another URL (say `tabwarden.js?v=2`) would get a second copy, with its own
        // TabwardenError class.
        preserveEntrySignatures: 'allow-extension' as const,
        output: {
          minify: true,
          // A script-tag (IIFE) build is one file: its import()s are inlined.
          codeSplitting:
            bundle.format === 'iife' ? false : { groups: [{ name: 'entry', tags: ['$initial' as const] }] },
          chunkFileNames: 'tabwarden-[name]-[hash].js',
          // Served as they are, never bundled again: no tool reads their `@__PURE__` or
          // `@vite-ignore` hints.
          comments: { annotation: false },
        },
      },
      lib: {
        entry: bundle.entry,
        formats: [bundle.format],
        name: 'tabwarden',
        fileName: () => bundle.fileName,
      },
    },
  };
});
