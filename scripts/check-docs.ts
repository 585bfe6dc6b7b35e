// Docs that run (npm test, after the build): every TypeScript block in README.md, docs/*.md and
// the UI's README is written to a scratch folder inside this repository and type-checked against
// the built package — `tabwarden/...` resolves through package.json's exports, as in a user's
// app, so a doc that imports a path the package does not export fails. The free names the
// snippets use (a token, a tab, a server...) are declared once, with their real types, in
// scripts/docs-globals.d.ts. And docs/testing.md's first test must be, as written, the test that
// examples/script-tag runs (scripts/check-examples.ts).
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

// docs/testing.md's first test is examples/script-tag/e2e/first.spec.ts, which CI runs.
const testing = readFileSync('docs/testing.md', 'utf8');
const firstTest = /## A first test[\s\S]*?```ts\n([\s\S]*?)```/.exec(testing)?.[1];
const example = readFileSync('examples/script-tag/e2e/first.spec.ts', 'utf8');
if (!firstTest || !example.endsWith(firstTest)) {
  console.error(
    "docs/testing.md's first test and examples/script-tag/e2e/first.spec.ts differ: the doc must be the test CI runs",
  );
  process.exit(1);
}
rmSync(SCRATCH, { recursive: true, force: true });
