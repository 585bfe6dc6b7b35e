import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEBIAN_CHROMIUM_PATH, chromiumLaunchOptions } from '../../src/testing/browser/launch-chromium.ts';
import { FIREFOX_ESR_PATH } from '../engines/adapters/firefox.ts';
import { MINIBROWSER_PATH, WEBKIT_WEBDRIVER_PATH } from '../engines/adapters/webkit.ts';
import { XVFB_PATH } from '../engines/xvfb.ts';
import {
  SYSTEM_DEPENDENCIES,
  explain,
  findMissing,
  plan,
  type SystemDependency,
} from '../../scripts/system-dependencies.js';

const SCRIPT = new URL('../../scripts/system-dependencies.js', import.meta.url).pathname;
const chromium = SYSTEM_DEPENDENCIES.find((d) => d.name === 'Chromium') as SystemDependency;
const NOWHERE = '/nonexistent/tabwarden-test/chrome';
// `nobody` on Debian: what a person without root sees.
const NOBODY = 65534;

describe('the system dependencies of npm test', () => {
  it('look for Chromium where the Playwright config, the bench and the test kit launch it', () => {
    expect(chromium.path).toBe(DEBIAN_CHROMIUM_PATH);
    expect(chromiumLaunchOptions().executablePath).toBe(
      process.env.TABWARDEN_CHROMIUM?.trim() || DEBIAN_CHROMIUM_PATH,
    );
  });

  it('look for the other engines where their adapters launch them', () => {
    const paths = SYSTEM_DEPENDENCIES.map((d) => d.path);
    for (const path of [FIREFOX_ESR_PATH, WEBKIT_WEBDRIVER_PATH, MINIBROWSER_PATH, XVFB_PATH]) {
      expect(paths).toContain(path);
    }
  });

  it('a path with * finds any version, as the Postgres harness does', () => {
    const postgres = SYSTEM_DEPENDENCIES.find((d) => d.name === 'PostgreSQL') as SystemDependency;
    expect(postgres.path).toBe('/usr/lib/postgresql/*/bin/initdb');
    const versioned = { ...postgres, path: `${process.execPath.replace(/\/[^/]+\/[^/]+$/, '')}/*/node` };
    expect(findMissing([versioned], {})).toEqual([]);
    expect(findMissing([{ ...postgres, path: '/nonexistent/*/bin/initdb' }], {})).toHaveLength(1);
  });

  it('TABWARDEN_CHROMIUM points every launcher at another browser', () => {
    const previous = process.env.TABWARDEN_CHROMIUM;
    process.env.TABWARDEN_CHROMIUM = '/opt/chrome/chrome';
    try {
      expect(chromiumLaunchOptions().executablePath).toBe('/opt/chrome/chrome');
    } finally {
      if (previous === undefined) delete process.env.TABWARDEN_CHROMIUM;
      else process.env.TABWARDEN_CHROMIUM = previous;
    }
  });

  it('a dependency at its package path is installed by root with apt', () => {
    const gone = { ...chromium, path: NOWHERE };
    const missing = findMissing([gone], {});
    expect(missing).toEqual([{ dependency: gone, path: NOWHERE, fromVariable: false }]);
    expect(plan(missing, { root: true, apt: true })).toEqual({ kind: 'install', packages: ['chromium'] });
  });

  it('without root or without apt, it stops with what is missing and the command that fixes it', () => {
    const missing = findMissing([{ ...chromium, path: NOWHERE }], {});
    for (const can of [
      { root: false, apt: true },
      { root: true, apt: false },
    ]) {
      const next = plan(missing, can);
      expect(next.kind).toBe('stop');
      expect(next.kind === 'stop' && next.message).toBe(explain(missing));
    }
    expect(explain(missing)).toContain(`Chromium (${chromium.usedBy}): not found at ${NOWHERE}`);
    expect(explain(missing)).toContain('sudo apt-get update && sudo apt-get install -y chromium');
    expect(explain(missing)).toContain('export TABWARDEN_CHROMIUM=/path/to/chromium');
  });

  it('a variable that points nowhere is reported, never "fixed" by installing the package', () => {
    const missing = findMissing([chromium], { TABWARDEN_CHROMIUM: NOWHERE });
    expect(missing).toEqual([{ dependency: chromium, path: NOWHERE, fromVariable: true }]);
    const next = plan(missing, { root: true, apt: true });
    expect(next.kind).toBe('stop');
    expect(explain(missing)).toContain(`TABWARDEN_CHROMIUM=${NOWHERE} is not an executable`);
  });

  it('everything present: nothing to do', () => {
    const here = { ...chromium, path: process.execPath };
    expect(plan(findMissing([here], {}), { root: false, apt: false })).toEqual({ kind: 'ready' });
  });

  describe('run as a person without root would run it', () => {
    // A copy in a folder anyone can read: the checkout may sit under a private home.
    const folder = mkdtempSync(join(tmpdir(), 'tabwarden-deps-'));
    chmodSync(folder, 0o755);
    const copy = join(folder, 'system-dependencies.js');
    copyFileSync(SCRIPT, copy);
    chmodSync(copy, 0o644);
    afterAll(() => rmSync(folder, { recursive: true, force: true }));

    it('stops before any test, exits non-zero, names what is missing and how to fix it', async () => {
      const asRoot = process.getuid?.() === 0;
      const child = spawn(process.execPath, [copy], {
        env: { PATH: process.env.PATH, TABWARDEN_CHROMIUM: NOWHERE },
        ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}),
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(code).toBe(1);
      expect(stderr).toContain(`TABWARDEN_CHROMIUM=${NOWHERE} is not an executable`);
      expect(stderr).toContain('sudo apt-get update && sudo apt-get install -y chromium');
    });
  });
});
