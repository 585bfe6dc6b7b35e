// The table `npm run bench` prints: Markdown, so it reads in a terminal and pastes into a README.
import type { Row } from './row.ts';

const COLUMNS: Array<[keyof Row, string]> = [
  ['metric', 'metric'],
  ['tabwarden', 'tabwarden'],
  ['baseline', 'baseline (same run)'],
  ['ratio', 'ratio'],
  ['target', 'target'],
  ['verdict', 'pass/fail'],
  ['samples', 'samples'],
];

export function formatTable(rows: readonly Row[]): string {
  const cells = [COLUMNS.map(([, title]) => title), ...rows.map((row) => COLUMNS.map(([key]) => row[key]))];
  const widths = COLUMNS.map((_, i) => Math.max(...cells.map((line) => line[i]!.length)));
  const line = (values: string[]) => `| ${values.map((v, i) => v.padEnd(widths[i]!)).join(' | ')} |`;
  return [
    line(cells[0]!),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...cells.slice(1).map(line),
  ].join('\n');
}
