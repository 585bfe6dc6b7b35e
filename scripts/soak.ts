// `npm run soak`: repeats every fault-injection case (test/e2e/faults.spec.ts) on every
// transport, 20 times by default, and writes the reliability table — per scenario and
// transport: runs, lost, duplicated, hung, failed otherwise, worst recovery — to
// docs/reliability.md, printing it too. Not part of `npm test` (about an hour on two cores).
//
//   npm run soak                      20 runs of each case, every transport
//   npm run soak -- --runs=5          fewer
//   npm run soak -- --project=in-page one transport (repeatable)
//   npm run soak -- --no-build        reuse dist/ as it is
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface Tally {
  lost: number;
  duplicated: number;
  hung: number;
  recoveryMs: number;
}

interface Row {
  scenario: string;
  transport: string;
  runs: number;
  lost: number;
  duplicated: number;
  hung: number;
  /** Runs that failed in another way (an assertion, a crash) or recorded nothing. */
  failed: number;
  worstRecoveryMs: number;
}

// The parts of Playwright's JSON report read here.
interface JsonResult {
  status: string;
  annotations?: Array<{ type: string; description?: string }>;
}
interface JsonSuite {
  title: string;
  specs?: Array<{ title: string; tests: Array<{ projectName: string; results: JsonResult[] }> }>;
  suites?: JsonSuite[];
}

const args = process.argv.slice(2);
const runs = Number(args.find((arg) => arg.startsWith('--runs='))?.slice(7) ?? 20);
const projects = args.filter((arg) => arg.startsWith('--project=')).map((arg) => arg.slice(10));
if (!Number.isInteger(runs) || runs < 1) {
  console.error('soak: --runs must be a whole number of at least 1');
  process.exit(2);
}

if (!args.includes('--no-build')) {
  const built = spawnSync('npm', ['run', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (built.status !== 0) {
    console.error('soak: npm run build failed');
    process.exit(1);
  }
}

const reportFile = join(mkdtempSync(join(tmpdir(), 'tabwarden-soak-')), 'report.json');
const startedAt = new Date();
const playwright = spawnSync(
  'npx',
  [
    'playwright',
    'test',
    'test/e2e/faults.spec.ts',
    `--repeat-each=${runs}`,
    '--reporter=json',
    ...(projects.length > 0 ? projects : ['service-worker', 'shared-worker', 'in-page']).map(
      (project) => `--project=${project}`,
    ),
  ],
  {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, PLAYWRIGHT_JSON_OUTPUT_NAME: reportFile },
  },
);
const report = JSON.parse(readFileSync(reportFile, 'utf8')) as { suites: JsonSuite[] };

const rows = new Map<string, Row>();
const visit = (suite: JsonSuite, path: string[]) => {
  for (const spec of suite.specs ?? []) {
    for (const test of spec.tests) {
      const key = `${spec.title}\u0000${test.projectName}`;
      const row = rows.get(key) ?? {
        scenario: spec.title,
        transport: test.projectName,
        runs: 0,
        lost: 0,
        duplicated: 0,
        hung: 0,
        failed: 0,
        worstRecoveryMs: 0,
      };
      rows.set(key, row);
      for (const result of test.results) {
        row.runs++;
        const recorded = result.annotations?.find((annotation) => annotation.type === 'fault')?.description;
        if (!recorded) {
          row.failed++;
          continue;
        }
        const tally = JSON.parse(recorded) as Tally;
        row.lost += tally.lost;
        row.duplicated += tally.duplicated;
        row.hung += tally.hung;
        row.worstRecoveryMs = Math.max(row.worstRecoveryMs, tally.recoveryMs);
        const harmless = tally.lost + tally.duplicated + tally.hung === 0;
        if (result.status !== 'passed' && harmless) row.failed++;
      }
    }
  }
  for (const child of suite.suites ?? []) visit(child, [...path, child.title]);
};
for (const suite of report.suites) visit(suite, [suite.title]);

const header = [
  'scenario',
  'transport',
  'runs',
  'lost',
  'duplicated',
  'hung',
  'failed otherwise',
  'worst recovery',
];
const lines = [
  `| ${header.join(' | ')} |`,
  `| ${header.map(() => '---').join(' | ')} |`,
  ...[...rows.values()].map(
    (row) =>
      `| ${row.scenario} | ${row.transport} | ${row.runs} | ${row.lost} | ${row.duplicated} | ${row.hung} | ${row.failed} | ${row.worstRecoveryMs} ms |`,
  ),
];
const table = lines.join('\n');
const minutes = ((Date.now() - startedAt.getTime()) / 60_000).toFixed(1);
const document = `# Reliability under injected faults

Written by \`npm run soak\` (scripts/soak.ts) on ${startedAt.toISOString()}: every case of
\`test/e2e/faults.spec.ts\` ${runs} times per transport, ${minutes} minutes. "Recovery" is from the
fault to the answer of the call it hit (for the server-fault cases: to the coded error). A run
counts in "failed otherwise" when it failed without losing, duplicating or hanging a call (say, a
wrong error code), or recorded nothing.

${table}
`;
writeFileSync('docs/reliability.md', document);
// Formatted as the format check wants it, so the file can be committed as written.
spawnSync('npx', ['prettier', '--write', 'docs/reliability.md'], { stdio: 'ignore' });
console.log(table);
console.log(`\nwritten: docs/reliability.md (${minutes} min)`);
process.exit(playwright.status === 0 ? 0 : 1);
