// The install path users take, proven (npm test, after check:package packed the package into
// .pack/): installs the tarball into a scratch folder and prints what the browser part brings
// (packages, bytes, time, install scripts: the targets are no install script and no server
// dependency), then installs it into each example under examples/, builds the example and runs
// its own Playwright test. Only tabwarden comes from the local tarball; its dependencies come from
// the registry (npm's cache, once warm). The examples' tools (vite, typescript, @playwright/test)
// and the optional peers the test kit needs resolve from this repository's node_modules, a
// folder up, so no example downloads them again.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

// Where scripts/check-package.ts packs the package.
const PACK_DIR = '.pack';
const SERVER_DEPENDENCIES = ['hono', '@hono/node-server', 'better-sqlite3'];
const repo = process.cwd();
const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
const tarball = resolve(PACK_DIR, `tabwarden-${version}.tgz`);
const bin = (name: string) => join(repo, 'node_modules', '.bin', name);

function run(command: string, args: string[], options: SpawnSyncOptions = {}): string {
  const result = spawnSync(command, args, { encoding: 'utf8', ...options });
  if (result.status !== 0) {
    console.error(
      `${command} ${args.join(' ')} (in ${options.cwd ?? repo}) failed:\n${result.stdout}${result.stderr}`,
    );
    process.exit(1);
  }
  return String(result.stdout);
}

const npmInstall = ['install', '--no-audit', '--no-fund', '--prefer-offline', '--no-package-lock'];

function bytesIn(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((sum, name) => sum + bytesIn(join(path, name)), 0);
}

if (!existsSync(tarball)) run('npm', ['run', 'check:package']);

// 1. The browser part in a scratch app: what `npm install tabwarden` brings.
const scratch = mkdtempSync(join(tmpdir(), 'tabwarden-scratch-install-'));
try {
  writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'scratch', private: true }));
  const started = performance.now();
  // Scripts run as a user's install runs them: npm's defaults.
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], { cwd: scratch });
  const seconds = (performance.now() - started) / 1000;
  const lock = JSON.parse(readFileSync(join(scratch, 'node_modules', '.package-lock.json'), 'utf8')) as {
    packages: Record<string, { hasInstallScript?: boolean }>;
  };
  const packages = Object.keys(lock.packages).map((path) => path.replace(/^.*node_modules\//, ''));
  const withScripts = Object.entries(lock.packages)
    .filter(([, entry]) => entry.hasInstallScript)
    .map(([path]) => path.replace(/^.*node_modules\//, ''));
  const serverDependencies = packages.filter((name) => SERVER_DEPENDENCIES.includes(name));
  const megabytes = bytesIn(join(scratch, 'node_modules')) / 1e6;
  console.log(
    `npm install tabwarden (browser part): ${packages.length} packages (${packages.sort().join(', ')}), ` +
      `${megabytes.toFixed(2)} MB, ${seconds.toFixed(1)} s, install scripts run: ${withScripts.length ? withScripts.join(', ') : 'none'}`,
  );
  if (withScripts.length > 0 || serverDependencies.length > 0) {
    console.error(
      `The browser part must bring no install script and no server dependency; it brought ${[...withScripts, ...serverDependencies].join(', ')}`,
    );
    process.exit(1);
  }
  // Without the server's optional peers, the CLI names them and the install line; on Postgres, pg too.
  for (const [args, expected] of [
    [['--demo'], 'npm install hono@'],
    [['--database', 'postgres://127.0.0.1/tabwarden'], "pg@'"],
  ] as const) {
    const cli = spawnSync(join(scratch, 'node_modules', '.bin', 'tabwarden-server'), args, {
      cwd: scratch,
      encoding: 'utf8',
    });
    if (cli.status !== 1 || !cli.stderr.includes(expected)) {
      console.error(
        `tabwarden-server ${args.join(' ')} without its peers should name them; it said:\n${cli.stdout}${cli.stderr}`,
      );
      process.exit(1);
    }
  }
  console.log(
    'npx tabwarden-server without its peers: names them (pg too on Postgres) and the npm install line',
  );
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

// 2. Each example, installed from the tarball, built and tested as its README says.
const examples: Array<{ dir: string; build: () => void }> = [
  {
    dir: 'examples/vite-app',
    build: () => {
      run(bin('tsc'), ['-p', 'tsconfig.json'], { cwd: 'examples/vite-app' });
      run(bin('vite'), ['build', '--logLevel', 'warn'], { cwd: 'examples/vite-app' });
    },
  },
  {
    dir: 'examples/script-tag',
    build: () => run('npm', ['run', 'build', '--silent'], { cwd: 'examples/script-tag' }),
  },
];
for (const { dir, build } of examples) {
  const started = performance.now();
  rmSync(join(dir, 'dist'), { recursive: true, force: true });
  run('npm', [...npmInstall, '--no-save', tarball], { cwd: dir });
  build();
  // From the example's folder, as its README runs it: its test serves `dist` from there.
  const output = run(bin('playwright'), ['test'], { cwd: dir });
  const summary = output.trim().split('\n').at(-1)?.trim();
  console.log(
    `${dir}: installed, built, ${summary} (${((performance.now() - started) / 1000).toFixed(1)} s)`,
  );
}
