// Type-checks each part of tabwarden with its own compiler settings (see tsconfig.*.json), so
// the compiler itself keeps DOM, worker and Node globals out of src/core.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

const parts = ['core', 'sw', 'page', 'node', 'bench'];
let failed = false;
for (const part of parts) {
  const project = part === 'bench' ? 'bench/tsconfig.json' : `tsconfig.${part}.json`;
  const dir = part === 'node' || part === 'bench' ? null : `src/${part}`;
  if (dir && (!existsSync(dir) || !readdirSync(dir).some((f) => f.endsWith('.ts')))) continue;
  const { status } = spawnSync('npx', ['tsc', '-p', project], { stdio: 'inherit' });
  console.log(`typecheck ${project}: ${status === 0 ? 'ok' : 'FAILED'}`);
  failed ||= status !== 0;
}
process.exit(failed ? 1 : 0);
