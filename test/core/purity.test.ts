// src/core runs in pages, workers and Node alike: its compiler settings must refuse the globals
// of any one of them. This proves the guard itself works, not just that today's code is clean.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

function compileWithCoreSettings(source: string): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(
    join(root, 'tsconfig.core.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: () => {},
    },
  );
  if (!config) throw new Error('tsconfig.core.json did not parse');
  const dir = mkdtempSync(join(tmpdir(), 'core-purity-'));
  const file = join(dir, 'probe.ts');
  writeFileSync(file, source);
  try {
    const platform = join(root, 'src/core/platform.d.ts');
    const program = ts.createProgram([platform, file], config.options);
    return ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file?.fileName === file)
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('src/core compiler settings', () => {
  it('accept what every runtime has', () => {
    expect(
      compileWithCoreSettings('export const n: number = Date.now() + new TextEncoder().encode("x").length;'),
    ).toEqual([]);
  });

  for (const global of [
    'window',
    'document',
    'self',
    'process',
    'localStorage',
    'sessionStorage',
    'navigator',
    'console',
  ]) {
    it(`refuse ${global}`, () => {
      const errors = compileWithCoreSettings(
        `export const probe = typeof ${global} === 'object' && ${global};`,
      );
      expect(errors.join('\n')).toMatch(new RegExp(`Cannot find name '${global}'`));
    });
  }
});
