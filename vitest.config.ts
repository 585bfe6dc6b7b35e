import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // fake-indexeddb for the store; every test file gets a fresh one.
    setupFiles: ['fake-indexeddb/auto'],
    testTimeout: 20_000,
  },
});
