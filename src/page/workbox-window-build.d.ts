// workbox-window's modern ES build (loaded by becomeControlled in create-tabwarden.ts) has the package's types.
declare module 'workbox-window/build/workbox-window.prod.mjs' {
  export * from 'workbox-window';
}
