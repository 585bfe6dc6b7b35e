#!/usr/bin/env node
// `npx tabwarden-server`: the reference server's CLI (src/server/main.ts, built to
// dist/server/main.js). Its dependencies are optional peers of tabwarden — a page needs none of
// them — so a missing one is named here with the command that installs it, not as a stack trace.
import { readFileSync } from 'node:fs';

const { peerDependencies } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
// Postgres (`--database postgres://…`, or TABWARDEN_DATABASE) needs `pg` as well.
const database = process.argv
  .slice(2)
  .find((arg, i, args) => args[i - 1] === '--database' || arg.startsWith('--database='));
const onPostgres = /^postgres(ql)?:/.test(
  (database ?? process.env.TABWARDEN_DATABASE ?? '').replace(/^--database=/, ''),
);
const SERVER_PEERS = ['hono', '@hono/node-server', 'better-sqlite3', ...(onPostgres ? ['pg'] : [])];
const missing = SERVER_PEERS.filter((name) => {
  try {
    import.meta.resolve(name);
    return false;
  } catch {
    return true;
  }
});
if (missing.length > 0) {
  const install = SERVER_PEERS.map((name) => `${name}@'${peerDependencies[name]}'`).join(' ');
  console.error(
    `tabwarden-server needs ${missing.join(', ')} (optional peers of tabwarden, not installed with it).\n` +
      `Install the server's dependencies with:\n  npm install ${install}`,
  );
  process.exit(1);
}
await import('../dist/server/main.js');
