// The behaviour contract in three engines (test/engines): Chromium, Firefox ESR and WebKitGTK,
// one file per engine, run in parallel (one browser each). Needs the bundles (`npm run build`).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/engines/**/*.engine.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: true,
    maxWorkers: 2,
  },
});
