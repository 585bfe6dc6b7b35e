// Everything outside npm that the test command needs, in one table, and the check `npm test`
// runs before anything else (`pretest`). Present: nothing to do. Missing: as root with apt, it is
// installed; otherwise the run stops at once, saying what is missing and how to fix it.
// Add each new system dependency to SYSTEM_DEPENDENCIES as it arrives.
//
// Plain JavaScript with Node's built-ins only, so it runs before (and without) anything npm
// installed, and a test can run a copy of it as an unprivileged user.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * @typedef {object} SystemDependency One program the tests need from the system.
 * @property {string} name What a person calls it.
 * @property {string} usedBy Which tests need it.
 * @property {string} path Where the Debian/Ubuntu package puts the program the tests run.
 * @property {string[]} packages The Debian/Ubuntu packages that provide it.
 * @property {string} [variable] A variable that points the tests at an existing installation.
 */

/** @type {readonly SystemDependency[]} */
export const SYSTEM_DEPENDENCIES = Object.freeze([
  {
    name: 'Chromium',
    usedBy: 'browser tests, npm run bench, tabwarden/testing',
    // DEBIAN_CHROMIUM_PATH of src/testing/browser/launch-chromium.ts (a test keeps them equal).
    path: '/usr/bin/chromium',
    packages: ['chromium'],
    variable: 'TABWARDEN_CHROMIUM',
  },
  {
    name: 'Firefox ESR',
    usedBy: 'the contract in Firefox (test/engines), npm run bench',
    // FIREFOX_ESR_PATH of test/engines/adapters/firefox.ts.
    path: '/usr/bin/firefox-esr',
    packages: ['firefox-esr'],
  },
  {
    name: 'WebKitWebDriver',
    usedBy: 'the contract in WebKit (test/engines), npm run bench',
    // WEBKIT_WEBDRIVER_PATH of test/engines/adapters/webkit.ts.
    path: '/usr/bin/WebKitWebDriver',
    packages: ['webkit2gtk-driver'],
  },
  {
    name: 'MiniBrowser',
    usedBy: 'the contract in WebKit (test/engines), npm run bench',
    // MINIBROWSER_PATH of test/engines/adapters/webkit.ts (WebKitGTK's own browser).
    path: '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser',
    packages: ['webkit2gtk-driver'],
  },
  {
    name: 'Xvfb',
    usedBy: 'the contract in WebKit: MiniBrowser needs a display (test/engines/xvfb.ts)',
    path: '/usr/bin/Xvfb',
    packages: ['xvfb'],
  },
  {
    name: 'PostgreSQL',
    usedBy: 'the server suite on Postgres and scale-out tests (test/server/postgres-cluster.ts)',
    // Any installed major version: the tests start the newest one's initdb.
    path: '/usr/lib/postgresql/*/bin/initdb',
    packages: ['postgresql'],
  },
]);

/**
 * @typedef {object} Missing A dependency that is not where the tests will look for it.
 * @property {SystemDependency} dependency
 * @property {string} path Where it was looked for.
 * @property {boolean} fromVariable The path came from the dependency's variable.
 */

/**
 * The dependencies that are not where the tests will look for them, honouring their variables.
 * @param {readonly SystemDependency[]} dependencies
 * @param {Record<string, string | undefined>} env
 * @returns {Missing[]}
 */
export function findMissing(dependencies, env) {
  const missing = [];
  for (const dependency of dependencies) {
    const override = dependency.variable ? env[dependency.variable]?.trim() : undefined;
    const path = override || dependency.path;
    if (!resolve(path)) missing.push({ dependency, path, fromVariable: Boolean(override) });
  }
  return missing;
}

/**
 * Where each dependency will be taken from (for the run's log).
 * @param {readonly SystemDependency[]} dependencies
 * @param {Record<string, string | undefined>} env
 */
function findPresent(dependencies, env) {
  return dependencies.map((d) => ({
    name: d.name,
    path: resolve((d.variable && env[d.variable]?.trim()) || d.path),
  }));
}

/**
 * @typedef {{ kind: 'ready' } | { kind: 'install', packages: string[] } | { kind: 'stop', message: string }} Plan
 */

/**
 * What to do about what is missing. Installs only where that is allowed and sure to help: as
 * root, with apt, for programs looked for at their package's path (a wrong variable is the
 * person's to fix; installing would not change where it points).
 * @param {readonly Missing[]} missing
 * @param {{ root: boolean, apt: boolean }} can
 * @returns {Plan}
 */
export function plan(missing, can) {
  if (missing.length === 0) return { kind: 'ready' };
  if (can.root && can.apt && missing.every((m) => !m.fromVariable)) {
    return { kind: 'install', packages: packagesOf(missing) };
  }
  return { kind: 'stop', message: explain(missing) };
}

/**
 * The message a person sees when the tests cannot run: what is missing and the exact fixes.
 * @param {readonly Missing[]} missing
 */
export function explain(missing) {
  const lines = ['npm test needs programs this machine does not have:'];
  for (const { dependency, path, fromVariable } of missing) {
    const where = fromVariable
      ? `${dependency.variable}=${path} is not an executable`
      : `not found at ${path}`;
    lines.push(`  - ${dependency.name} (${dependency.usedBy}): ${where}`);
  }
  lines.push(
    '',
    'On Debian or Ubuntu, install them with:',
    `  sudo apt-get update && sudo apt-get install -y ${packagesOf(missing).join(' ')}`,
  );
  const pointable = missing.filter((m) => m.dependency.variable);
  if (pointable.length > 0) {
    lines.push('', 'Or point the tests at an installation you have:');
    for (const { dependency } of pointable) {
      lines.push(`  export ${dependency.variable}=/path/to/${dependency.name.toLowerCase()}`);
    }
  }
  return lines.join('\n');
}

/** @param {readonly Missing[]} missing */
function packagesOf(missing) {
  return [...new Set(missing.flatMap((m) => m.dependency.packages))];
}

/** @param {string} path */
function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The executable at `path`, where one `*` stands for any folder name (a version number).
 * @param {string} path
 * @returns {string | undefined}
 */
function resolve(path) {
  const star = path.indexOf('/*/');
  if (star < 0) return isExecutable(path) ? path : undefined;
  const parent = path.slice(0, star);
  const rest = path.slice(star + 3);
  const names = existsSync(parent) ? readdirSync(parent) : [];
  return names.map((name) => join(parent, name, rest)).find(isExecutable);
}

/** @param {string} command */
function onPath(command) {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir && isExecutable(join(dir, command)));
}

/** @param {string[]} args */
function aptGet(args) {
  const started = Date.now();
  console.log(`system dependencies: apt-get ${args.join(' ')}`);
  const { status } = spawnSync('apt-get', args, {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (status !== 0) throw new Error(`apt-get ${args.join(' ')} exited with ${status}`);
  console.log(`system dependencies: apt-get ${args[0]} took ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

function main() {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  if (major < 20 || (major === 20 && minor < 19)) {
    console.error(`npm test needs Node.js 20.19 or newer; this is ${process.versions.node}.`);
    return 1;
  }
  const next = plan(findMissing(SYSTEM_DEPENDENCIES, process.env), {
    root: process.getuid?.() === 0,
    apt: onPath('apt-get') && existsSync('/etc/debian_version'),
  });
  if (next.kind === 'ready') {
    for (const { name, path } of findPresent(SYSTEM_DEPENDENCIES, process.env)) {
      console.log(`system dependencies: ${name} at ${path}`);
    }
    return 0;
  }
  if (next.kind === 'stop') {
    console.error(next.message);
    return 1;
  }
  console.log(`system dependencies: installing ${next.packages.join(', ')} (root, apt)`);
  aptGet(['update', '-qq']);
  aptGet(['install', '-y', '-qq', ...next.packages]);
  const still = findMissing(SYSTEM_DEPENDENCIES, process.env);
  if (still.length === 0) return 0;
  console.error(explain(still));
  return 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = main();
