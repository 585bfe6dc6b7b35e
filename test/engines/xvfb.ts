// A virtual X display for browsers that need one even when nobody looks (WebKitGTK's MiniBrowser:
// its --headless flag does not start here), so `npm test` runs on a headless machine.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Where Debian's `xvfb` package installs the server. */
export const XVFB_PATH = '/usr/bin/Xvfb';

/** A running Xvfb: its `DISPLAY` value and how to end it. */
export interface VirtualDisplay {
  display: string;
  stop(): void;
}

/**
 * Starts Xvfb on the first free display number (Xvfb picks it and writes it to `-displayfd`),
 * with no TCP listener. Rejects if it does not come up within `timeoutMs`.
 */
export function startVirtualDisplay(timeoutMs = 10_000): Promise<VirtualDisplay> {
  if (!existsSync(XVFB_PATH))
    return Promise.reject(new Error(`${XVFB_PATH} is missing: apt-get install xvfb`));
  const xvfb: ChildProcess = spawn(
    XVFB_PATH,
    ['-displayfd', '3', '-nolisten', 'tcp', '-screen', '0', '1280x1024x24'],
    { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let stderr = '';
    let written = '';
    const timer = setTimeout(
      () => fail(new Error(`Xvfb did not start within ${timeoutMs} ms: ${stderr}`)),
      timeoutMs,
    );
    const fail = (error: Error) => {
      clearTimeout(timer);
      xvfb.kill();
      reject(error);
    };
    xvfb.on('error', (error) =>
      fail(new Error(`cannot run ${XVFB_PATH} (apt-get install xvfb): ${error.message}`)),
    );
    xvfb.on('exit', (code) => fail(new Error(`Xvfb exited with ${code}: ${stderr}`)));
    xvfb.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    xvfb.stdio[3]!.on('data', (chunk: Buffer) => {
      written += chunk.toString();
      if (!written.includes('\n')) return;
      clearTimeout(timer);
      xvfb.removeAllListeners('exit');
      resolve({ display: `:${written.trim()}`, stop: () => xvfb.kill() });
    });
  });
}
