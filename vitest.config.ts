import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The browser-engine contract has a config of its own (vitest.engines.config.ts).
    exclude: ['test/engines/**', 'node_modules/**'],
    // fake-indexeddb for the store; every test file gets a fresh one.
    setupFiles: ['fake-indexeddb/auto'],
    testTimeout: 20_000,
  },
});
