// A throwaway Postgres cluster for tests and the bench: initdb in a temp folder, trust auth,
// 127.0.0.1 only, on a free port, its socket in the folder; removed by stop(). Debian's
// postgresql package puts the binaries in /usr/lib/postgresql/<version>/bin. Machines that run
// as root start it as the unprivileged `postgres` user, as Postgres refuses to run as root.
import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/** A running cluster. */
export interface PostgresCluster {
  /** The admin connection string (user `postgres`, database `postgres`). */
  url: string;
  port: number;
  stop(): Promise<void>;
  /** Stops it synchronously (from a process 'exit' handler). */
  stopNow(): void;
}

/** The newest installed Debian Postgres's bin folder, or an error saying what to install. */
function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((name) => existsSync(join(root, name, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) {
    throw new Error(
      `Postgres is not installed: no ${root}/<version>/bin/initdb. Install Debian's postgresql package (apt-get install postgresql).`,
    );
  }
  return join(root, versions[0] as string, 'bin');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Runs a Postgres binary, as `postgres` when this process is root. */
async function runAsOwner(command: string, args: string[]): Promise<void> {
  const asRoot = process.getuid?.() === 0;
  const [file, fileArgs] = asRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
  try {
    await run(file, fileArgs, { timeout: 60_000 });
  } catch (error) {
    const { stderr, stdout } = error as { stderr?: string; stdout?: string };
    throw new Error(`${command} ${args.join(' ')} failed: ${(stderr || stdout || String(error)).trim()}`, {
      cause: error,
    });
  }
}

/**
 * Starts a cluster. Rejects with the reason when it cannot (not installed, no `postgres` user,
 * initdb or start failed): tests that need Postgres then fail, never skip.
 *
 * @example
 * ```ts
 * const cluster = await startPostgresCluster();
 * const url = await createDatabase(cluster.url, 'test_1');
 * await cluster.stop();
 * ```
 */
export async function startPostgresCluster(options: { durable?: boolean } = {}): Promise<PostgresCluster> {
  const bin = binDir();
  const dir = mkdtempSync(join(tmpdir(), 'tabwarden-pg-'));
  const data = join(dir, 'data');
  if (process.getuid?.() === 0) {
    const { stdout } = await run('id', ['-u', 'postgres']).catch(() => {
      throw new Error('No `postgres` user to run Postgres as (it comes with the postgresql package)');
    });
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  chmodSync(dir, 0o700);
  const port = await freePort();
  try {
    await runAsOwner(join(bin, 'initdb'), [
      '-D',
      data,
      '-A',
      'trust',
      '-U',
      'postgres',
      '--no-instructions',
      '-E',
      'UTF8',
    ]);
    // Tests trade durability for speed; the bench keeps Postgres's defaults.
    const speed = options.durable ? '' : ' -c fsync=off -c synchronous_commit=off -c full_page_writes=off';
    await runAsOwner(join(bin, 'pg_ctl'), [
      '-D',
      data,
      '-l',
      join(dir, 'log'),
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=300${speed}`,
      '-w',
      'start',
    ]);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async stop() {
      await runAsOwner(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
    stopNow() {
      const args = [join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop'];
      if (process.getuid?.() === 0) spawnSync('runuser', ['-u', 'postgres', '--', ...args]);
      else spawnSync(args[0] as string, args.slice(1));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Creates an empty database on the cluster; answers its connection string. */
export async function createDatabase(adminUrl: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Drops a database, closing whatever is still connected to it. */
export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
