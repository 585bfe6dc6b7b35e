// The test kit's worker clock (src/sw/test-clock.ts) is a test-only hook: only the test build of
// the bundles (dist/test-bundles, `npm run build:test-bundles`) contains it. The shipped bundles
// (dist/bundles, `npm run build:bundles`) must carry no trace of it: not its code, not its
// channel, not the build-time switch. Run after `npm run build` (as `npm test` does).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const TRACES = ['tabwarden:test-clock', '__TABWARDEN_TEST_CLOCK__', 'jumped', 'offsetMs'];

function scripts(dir: string): Map<string, string> {
  if (!existsSync(dir)) throw new Error(`${dir} is missing: run npm run build first`);
  return new Map(
    readdirSync(dir)
      .filter((name) => name.endsWith('.js'))
      .map((name) => [name, readFileSync(join(dir, name), 'utf8')]),
  );
}

describe('the worker test clock', () => {
  it('is in the test build of the worker bundles (so the check below can see it)', () => {
    const test = scripts('dist/test-bundles');
    for (const name of ['tabwarden-sw.js', 'tabwarden-shared-worker.js']) {
      expect(test.get(name), name).toContain('tabwarden:test-clock');
    }
  });

  it('leaves no trace in any shipped bundle', () => {
    const shipped = scripts('dist/bundles');
    expect(shipped.size).toBeGreaterThan(0);
    for (const [name, code] of shipped) {
      for (const trace of TRACES)
        expect(code.includes(trace), `${trace} in dist/bundles/${name}`).toBe(false);
    }
  });
});
