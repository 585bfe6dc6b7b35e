// workbox-window's modern ES build (loadWorkbox in optional-parts.ts) has the package's types.
declare module 'workbox-window/build/workbox-window.prod.mjs' {
  export * from 'workbox-window';
}
