// The package as npm would publish it (npm test, after the build): publint, attw, and what the
// tarball holds. ES modules only is intended (Node >= 20.19 can require() it; bundlers and
// TypeScript's node16/bundler resolution are what it serves), so attw checks the esm-only
// profile. The worker files and bundles are scripts loaded by URL: they have no types to check.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where the tarball goes (gitignored; scripts/check-examples.ts installs it from there). */
const PACK_DIR = '.pack';

interface PackedFile {
  path: string;
  size: number;
}

const bin = (name: string) => join('node_modules', '.bin', name);

function run(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.status !== 0) {
    console.error(`${command} ${args.join(' ')} failed:\n${result.stdout}${result.stderr}`);
    process.exit(1);
  }
  return result.stdout;
}

// Packed once, into .pack/ (the examples check installs the same tarball).
mkdirSync(PACK_DIR, { recursive: true });
const [packed] = JSON.parse(
  run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', PACK_DIR]),
) as [{ filename: string; size: number; unpackedSize: number; files: PackedFile[] }];
const tarball = join(PACK_DIR, packed.filename);

run(bin('publint'), ['run', tarball, '--strict']);
console.log('publint: all good');
run(bin('attw'), [
  tarball,
  '--profile',
  'esm-only',
  '--exclude-entrypoints',
  './sw',
  './shared-worker',
  './in-page-host',
  './snippet',
  './bundles/*',
]);
console.log('attw (esm-only): no problems');

const problems: string[] = [];
for (const { path } of packed.files) {
  if (path.startsWith('src/')) problems.push(`${path}: sources are not shipped (dist/ has the JavaScript)`);
  // Maps only for the worker bundles: they ship minified and nowhere else readable.
  if (
    path.endsWith('.map') &&
    !/^dist\/bundles\/tabwarden-(sw|shared-worker|in-page-host)\.js\.map$/.test(path)
  ) {
    problems.push(`${path}: a source map where the code ships readable or is the page's`);
  }
}
// `sideEffects` true to what the files do: a bundler drops an unused import of a file not listed,
// so a file that registers elements, mounts UI or sets a global when imported must be listed.
// Every other dist file is imported here in plain Node, one process for all, and must neither
// throw nor add, remove or replace a global. Each listed pattern must still match a shipped file.
const { sideEffects } = JSON.parse(readFileSync('package.json', 'utf8')) as { sideEffects: string[] };
const patterns = sideEffects.map(
  (pattern) =>
    new RegExp(
      `^${pattern
        .replace(/^\.\//, '')
        .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
        .replace(/\*\*/g, '\0')
        .replace(/\*/g, '[^/]*')
        .replace(/\0/g, '.*')}$`,
    ),
);
const shippedJs = packed.files.map((file) => file.path).filter((path) => path.endsWith('.js'));
for (const [i, pattern] of patterns.entries()) {
  if (!shippedJs.some((path) => pattern.test(path)))
    problems.push(`package.json sideEffects: ${sideEffects[i]} matches no shipped file`);
}
// What acts on import in a browser (or as the CLI), where Node alone may not show it: the UI's
// autoMount, the script-tag snippet, the bundles, the server's CLI.
const actsOnImport = [
  'dist/page/ui/index.js',
  'dist/page/snippet.js',
  'dist/server/main.js',
  ...shippedJs.filter((path) => /^dist\/(test-)?bundles\//.test(path)),
];
for (const path of actsOnImport) {
  if (!patterns.some((pattern) => pattern.test(path)))
    problems.push(`${path}: acts when imported, but package.json sideEffects does not list it`);
}
const pure = shippedJs.filter((path) => path.startsWith('dist/') && !patterns.some((p) => p.test(path)));
// The packages those files import are loaded first: their own effects on globals are theirs
// (@playwright/test sets a few), not a file of ours to list.
const externals = new Set<string>();
for (const path of pure) {
  for (const [, name] of readFileSync(path, 'utf8').matchAll(/\b(?:from|import)\s*['"]([^'"./][^'"]*)['"]/g))
    externals.add(name!);
}
const importEach = `
  // Read, not described: Node defines some globals (TextEncoder, fetch's classes) lazily.
  const snapshot = () => new Map(Reflect.ownKeys(globalThis).map((key) => [key, globalThis[key]]));
  const [files, externals] = JSON.parse(process.argv[1]);
  for (const name of externals) await import(name).catch(() => undefined);
  const found = [];
  for (const path of files) {
    const before = snapshot();
    try {
      await import(new URL(path, 'file://' + process.cwd() + '/').href);
    } catch (error) {
      found.push(path + ': importing it in Node throws: ' + String(error?.message ?? error).split('\\n')[0]);
      continue;
    }
    const after = snapshot();
    for (const key of new Set([...before.keys(), ...after.keys()])) {
      if (!Object.is(before.get(key), after.get(key)))
        found.push(path + ': importing it changes the global ' + String(key));
    }
  }
  console.log(JSON.stringify(found));
`;
const imported = spawnSync(
  process.execPath,
  ['--input-type=module', '-e', importEach, JSON.stringify([pure, [...externals]])],
  { encoding: 'utf8' },
);
if (imported.status !== 0) {
  problems.push(`importing the dist files in Node failed:\n${imported.stdout}${imported.stderr}`);
} else {
  for (const found of JSON.parse(imported.stdout.trim().split('\n').at(-1)!) as string[])
    problems.push(`${found} (list it in package.json sideEffects, or make the import pure)`);
  console.log(`sideEffects: ${pure.length} unlisted dist files import in Node and leave the globals alone`);
}

const maps = packed.files.filter((file) => file.path.endsWith('.map'));
console.log(
  `tarball: ${packed.files.length} files, ${packed.size} B packed, ${packed.unpackedSize} B unpacked ` +
    `(source maps: ${maps.length} files, ${maps.reduce((sum, file) => sum + file.size, 0)} B)`,
);
if (problems.length > 0) {
  console.error(`The tarball is not what it should be:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
