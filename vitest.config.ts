import { configDefaults, defineConfig } from 'vitest/config';

// The server suite runs twice, once per store (TABWARDEN_TEST_STORE); the Postgres run starts a
// throwaway cluster first (test/server/postgres-global-setup.ts) and fails if it cannot.
export default defineConfig({
  test: {
    // fake-indexeddb for the store; every test file gets a fresh one.
    setupFiles: ['fake-indexeddb/auto'],
    testTimeout: 20_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          // The browser-engine contract has a config of its own (vitest.engines.config.ts).
          exclude: [...configDefaults.exclude, 'test/server/**', 'test/engines/**'],
        },
      },
      {
        extends: true,
        test: {
          name: 'server-sqlite',
          include: ['test/server/**/*.test.ts'],
          // Several instances on one database: a Postgres deployment only.
          exclude: [
            ...configDefaults.exclude,
            'test/server/scale-out.test.ts',
            'test/server/multi-instance.test.ts',
          ],
          env: { TABWARDEN_TEST_STORE: 'sqlite' },
        },
      },
      {
        extends: true,
        test: {
          name: 'server-postgres',
          include: ['test/server/**/*.test.ts'],
          env: { TABWARDEN_TEST_STORE: 'postgres' },
          globalSetup: ['test/server/postgres-global-setup.ts'],
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
