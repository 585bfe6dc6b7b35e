// Docs that run (npm test, after the build): every TypeScript block in README.md, docs/*.md and
// the UI's README is written to a scratch folder inside this repository and type-checked against
// the built package — `tabwarden/...` resolves through package.json's exports, as in a user's
// app, so a doc that imports a path the package does not export fails. The free names the
// snippets use (a token, a tab, a server...) are declared once, with their real types, in
// scripts/docs-globals.d.ts. And the tests docs/testing.md shows must be, as written, tests CI
// runs (the e2e suite's docs spec, and examples/script-tag through scripts/check-examples.ts).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const SCRATCH = '.docs-check';
const documents = [
  'README.md',
  ...readdirSync('docs')
    .filter((name) => name.endsWith('.md'))
    .map((name) => join('docs', name)),
  'src/page/ui/README.md',
];

rmSync(SCRATCH, { recursive: true, force: true });
// The package installed as a user's app has it: node_modules/tabwarden, resolved through its exports.
mkdirSync(join(SCRATCH, 'node_modules'), { recursive: true });
symlinkSync(process.cwd(), join(SCRATCH, 'node_modules', 'tabwarden'), 'dir');
const files: string[] = [];
// Inside the scratch folder, so that its imports resolve the way the examples' do.
writeFileSync(join(SCRATCH, 'docs-globals.d.ts'), readFileSync('scripts/docs-globals.d.ts'));
for (const document of documents) {
  const text = readFileSync(document, 'utf8');
  let index = 0;
  for (const match of text.matchAll(/^```(?:ts|typescript)\n([\s\S]*?)^```/gm)) {
    const line = text.slice(0, match.index).split('\n').length + 1;
    const file = `${document.replace(/[/.]/g, '_')}_${index++}.ts`;
    // `export {}`: each block is a module of its own (top-level await, no shared names).
    writeFileSync(join(SCRATCH, file), `// ${document}:${line}\n${match[1]}\nexport {};\n`);
    files.push(file);
  }
}
writeFileSync(
  join(SCRATCH, 'tsconfig.json'),
  JSON.stringify({
    compilerOptions: {
      target: 'ES2022',
      module: 'ESNext',
      moduleResolution: 'Bundler',
      lib: ['ES2023', 'DOM', 'DOM.Iterable'],
      types: ['node'],
      strict: true,
      noEmit: true,
      skipLibCheck: true,
    },
    files: ['docs-globals.d.ts', ...files],
  }),
);
const result = spawnSync(join('node_modules', '.bin', 'tsc'), ['-p', SCRATCH], { encoding: 'utf8' });
if (result.status !== 0) {
  // Point at the document and line each error comes from.
  const errors = result.stdout.replace(
    /^\.docs-check\/(\S+?)\((\d+),(\d+)\)/gm,
    (whole, file: string, row: string) => {
      const source = readFileSync(join(SCRATCH, file), 'utf8').split('\n')[0]!.slice(3);
      const [document, start] = source.split(':');
      return `${document}:${Number(start) + Number(row) - 2} (${whole})`;
    },
  );
  console.error(`TypeScript examples in the docs do not type-check:\n${errors}${result.stderr}`);
  process.exit(1);
}
console.log(`docs: ${files.length} TypeScript examples type-check against the built package`);

// The tests docs/testing.md shows are tests CI runs, as written: the six fixture tests are in
// test/e2e/docs.service-worker.spec.ts and examples/script-tag/e2e/docs.spec.ts, and the one
// without the fixtures is
// examples/script-tag/e2e/first.spec.ts (run from the packed package).
const testing = readFileSync('docs/testing.md', 'utf8');
const section = (heading: string) => {
  const start = testing.indexOf(heading);
  const end = testing.indexOf('\n## ', start + 1);
  return testing.slice(start, end < 0 ? undefined : end);
};
const blocks = (text: string) => [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!);
const sixTests = blocks(section('## Six tests'));
// tabwarden's own suite runs them against its fixture app; examples/script-tag against itself.
const suites = ['test/e2e/docs.service-worker.spec.ts', 'examples/script-tag/e2e/docs.spec.ts'].map(
  (file) => [file, readFileSync(file, 'utf8')] as const,
);
const withoutFixtures = blocks(section('## Without the fixtures'))[0];
const example = readFileSync('examples/script-tag/e2e/first.spec.ts', 'utf8');
const drifted = [
  ...(sixTests.length === 6 ? [] : [`"Six tests" shows ${sixTests.length} tests`]),
  ...suites.flatMap(([file, suite]) =>
    sixTests.filter((test) => !suite.includes(test)).map((test) => `not in ${file}: ${test.split('\n')[0]}`),
  ),
  ...(withoutFixtures && example.endsWith(withoutFixtures)
    ? []
    : ['the test "Without the fixtures" is not examples/script-tag/e2e/first.spec.ts']),
];
if (drifted.length > 0) {
  console.error(`docs/testing.md shows tests CI does not run as written:\n  ${drifted.join('\n  ')}`);
  process.exit(1);
}
console.log('docs: the tests docs/testing.md shows are the ones CI runs');
rmSync(SCRATCH, { recursive: true, force: true });
