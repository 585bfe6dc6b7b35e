// The README's "Where each rule lives" table is how a newcomer finds a rule of the contract: the
// file that decides it and the tests named after it. This keeps the table true as files move.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const RULES = Array.from({ length: 15 }, (_, index) => `R${index + 1}`);

interface RuleRow {
  rule: string;
  code: string[];
  tests: string[];
}

/** The table's rows: the rule, then the backticked paths of its "decided in" and test columns. */
function readRuleMap(): RuleRow[] {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.split('### Where each rule lives')[1]?.split(/\n#{2,3} /)[0] ?? '';
  return [...section.matchAll(/^\| \*\*(R\d+)\*\*[^|]*\|(.*)$/gm)].map(([, rule, rest]) => {
    const [code = '', ...tests] = rest!.split('|');
    const paths = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((match) => match[1]!);
    return { rule: rule!, code: paths(code), tests: tests.flatMap(paths) };
  });
}

/** The rules a test title starts with: `R7:`, `R12/R14:`, `R3-R9 invariants`. */
function rulesOfTitle(prefix: string): string[] {
  return prefix.split('/').flatMap((part) => {
    const range = /^R(\d+)-R(\d+)$/.exec(part);
    if (!range) return [part];
    const [from, to] = [Number(range[1]), Number(range[2])];
    return Array.from({ length: to - from + 1 }, (_, index) => `R${from + index}`);
  });
}

/** Every rule some test in `file` is named after: `it(` or `test(` titles only, not `describe(`. */
function rulesTestedIn(file: string): Set<string> {
  const text = readFileSync(file, 'utf8');
  const titles = /\b(?:it|test)(?:\.each\([^)]*\))?\(\s*['"`](R\d+(?:[-/]R\d+)*)[: ]/g;
  const prefixes = [...text.matchAll(titles)].map((match) => match[1]!);
  return new Set(prefixes.flatMap(rulesOfTitle));
}

describe("README's rule map", () => {
  const rows = readRuleMap();

  it('lists R1 to R15 once each, in order', () => {
    expect(rows.map((row) => row.rule)).toEqual(RULES);
  });

  it.each(RULES)('%s: names files that exist, and tests named after the rule', (rule) => {
    const row = rows.find((candidate) => candidate.rule === rule);
    expect(row?.code.length, `${rule} names no source file`).toBeGreaterThan(0);
    expect(row?.tests.length, `${rule} names no test`).toBeGreaterThan(0);
    for (const path of [...row!.code, ...row!.tests]) expect(existsSync(path), path).toBe(true);
    for (const test of row!.tests) {
      expect(rulesTestedIn(test).has(rule), `${test} has no test named after ${rule}`).toBe(true);
    }
  });
});
