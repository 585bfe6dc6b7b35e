import { defineConfig } from 'vite';

// Browser bundles. The worker entries bundle core with jose and idb; the page stub (issue #4)
// must never contain jose, and the build checks that.
export default defineConfig({
  build: {
    outDir: 'dist/bundles',
    emptyOutDir: true,
    sourcemap: true,
    lib: {
      entry: { core: 'src/core/index.ts' },
      formats: ['es'],
    },
  },
});
