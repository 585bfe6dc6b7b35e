// DESIGN §1's import directions are enforced by ESLint (eslint.config.js, no-restricted-imports).
// This proves the guard itself fires, for each direction, not just that today's code is clean.
import { resolve } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: resolve(import.meta.dirname, '../..') });

/** The import-direction messages ESLint gives `source` as if it were the file at `path`. */
async function importErrors(path: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: resolve(import.meta.dirname, '../..', path) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

const cases: Array<[file: string, from: string, rule: RegExp]> = [
  ['src/core/probe.ts', '../page/tabwarden.ts', /src\/core imports none of page, sw, server/],
  ['src/core/probe.ts', '../sw/create-engine.ts', /src\/core imports none of page, sw, server/],
  ['src/core/probe.ts', '../server/index.ts', /src\/core imports none of page, sw, server/],
  ['src/core/probe.ts', 'tabwarden/testing', /src\/core imports none of the package's entries/],
  ['src/page/probe.ts', 'jose', /jose lives in the worker and the server, never in the page/],
  ['src/page/probe.ts', '../core/verify-identity-token.ts', /brings jose/],
  ['src/page/ui/probe.ts', '../../sw/create-engine.ts', /the page imports src\/core only/],
  ['src/page/probe.ts', '../server/index.ts', /the page imports src\/core only/],
  ['src/sw/probe.ts', '../page/tabwarden.ts', /src\/sw imports src\/core only/],
  ['src/server/probe.ts', '../page/tabwarden.ts', /src\/server imports src\/core only/],
  ['src/server/probe.ts', '../sw/create-engine.ts', /src\/server imports src\/core only/],
];

describe('DESIGN §1 import directions (eslint.config.js)', () => {
  it.each(cases)('%s may not import %s', async (file, from, rule) => {
    const errors = await importErrors(file, `export * from '${from}';\n`);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(rule);
  });

  it.each([
    ['src/page/probe.ts', '../core/errors.ts'],
    ['src/page/ui/probe.ts', '../../core/message-rules.ts'],
    ['src/sw/probe.ts', '../core/session-engine.ts'],
    ['src/server/probe.ts', '../core/verify-identity-token.ts'],
    ['src/server/probe.ts', 'jose'],
    ['src/core/probe.ts', 'jose'],
  ])('%s may import %s', async (file, from) => {
    expect(await importErrors(file, `export * from '${from}';\n`)).toEqual([]);
  });
});
