// The reference server as a real process (src/server/main.ts through tsx), for multi-instance
// tests and the bench: options go in as TABWARDEN_* variables, the URL comes from its output.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A running server process. */
export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Kills it at once (SIGKILL: no graceful shutdown, as a crash). */
  kill(): Promise<void>;
  /** Asks it to shut down gracefully (SIGTERM) and waits for its exit. */
  stop(): Promise<void>;
}

const main = fileURLToPath(new URL('../../src/server/main.ts', import.meta.url));
// tsx's loader in this very process: the tsx command would run the server as its child, and a
// SIGKILL to the command would leave that child serving.
const loader = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href;

/**
 * Starts `src/server/main.ts` with `env` (TABWARDEN_* settings) on a free port of 127.0.0.1.
 * Rejects with its output when it exits or stays silent for `timeoutMs`.
 *
 * @example
 * ```ts
 * const a = await startServerProcess({ TABWARDEN_DATABASE: url, TABWARDEN_DEMO: 'true' });
 * await a.stop();
 * ```
 */
export function startServerProcess(env: Record<string, string>, timeoutMs = 30_000): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', loader, main], {
    env: { ...process.env, TABWARDEN_PORT: '0', TABWARDEN_HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const wait = async () => {
    if (child.exitCode === null && child.signalCode === null) await exited;
  };
  return new Promise((resolve, reject) => {
    let output = '';
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`server process ${why}:\n${output}`));
    };
    const timer = setTimeout(() => fail(`did not listen within ${timeoutMs} ms`), timeoutMs);
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (!match) return;
      clearTimeout(timer);
      // From now on nobody reads its lines; drain them so a full pipe never blocks it.
      child.stdout.removeAllListeners('data');
      child.stdout.resume();
      child.stderr.resume();
      resolve({
        url: match[1] as string,
        child,
        async kill() {
          child.kill('SIGKILL');
          await wait();
        },
        async stop() {
          child.kill('SIGTERM');
          await wait();
        },
      });
    });
    child.once('exit', (code, signal) => fail(`exited (${code ?? signal}) before listening`));
  });
}
