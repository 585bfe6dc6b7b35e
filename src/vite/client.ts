// tabwarden/vite/client: types of the virtual module the Vite plugin provides. Add
// `"types": ["tabwarden/vite/client"]` to tsconfig.json, or `/// <reference types="tabwarden/vite/client" />`.

declare module 'virtual:tabwarden/workers' {
  /** Where the plugin serves the service worker (pass to `createTabwarden`). */
  export const serviceWorkerUrl: string;
  /** Where the plugin serves the SharedWorker. */
  export const sharedWorkerUrl: string;
  /** Where the plugin serves the in-page leader's engine. */
  export const inPageHostUrl: string;
  /** The service worker's scope: Vite's `base`. */
  export const serviceWorkerScope: string;
  /** All four, to spread into `createTabwarden({ ...workers, worker })`. */
  const workers: {
    serviceWorkerUrl: string;
    sharedWorkerUrl: string;
    inPageHostUrl: string;
    serviceWorkerScope: string;
  };
  export default workers;
}
