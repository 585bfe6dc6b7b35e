// The package as npm would publish it (npm test, after the build): publint, attw, and what the
// tarball holds. ES modules only is intended (Node >= 20.19 can require() it; bundlers and
// TypeScript's node16/bundler resolution are what it serves), so attw checks the esm-only
// profile. The worker files and bundles are scripts loaded by URL: they have no types to check.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
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
const maps = packed.files.filter((file) => file.path.endsWith('.map'));
console.log(
  `tarball: ${packed.files.length} files, ${packed.size} B packed, ${packed.unpackedSize} B unpacked ` +
    `(source maps: ${maps.length} files, ${maps.reduce((sum, file) => sum + file.size, 0)} B)`,
);
if (problems.length > 0) {
  console.error(`The tarball is not what it should be:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
