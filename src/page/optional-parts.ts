/**
 * The parts of the page stub that most pages never run: the fallback transports (R11),
 * workbox-window (only while the page registers its worker) and the diagnosis of a worker script
 * that failed to register. The ES build loads each as a chunk of its own, where it is used. The
 * script-tag build is one file, and there an import() only wraps code the file holds anyway in
 * lazy-evaluation helpers: vite.config.ts builds it with optional-parts.inline.ts instead.
 */
export const loadSharedWorkerTransport = () => import('./shared-worker-transport.ts');
export const loadInPageTransport = () => import('./in-page-transport.ts');
/**
 * Its `main` is CommonJS: imported statically it broke `import 'tabwarden/page'` under Node
 * (server-side rendering, a Node test environment). Its modern ES build: the same code as its
 * `module` field's without the ES5 helpers.
 */
export const loadWorkbox = () => import('workbox-window/build/workbox-window.prod.mjs');
export const loadWorkerUnavailable = () => import('./worker-unavailable.ts');
