import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { describeConfig, parseConfig, usage } from '../../src/server/config.ts';
import { resolveServerOptions } from '../../src/server/options.ts';

const packageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

describe('CLI flags and environment variables', () => {
  it('defaults to port 8787 and nothing else', () => {
    expect(parseConfig([], {})).toMatchObject({ options: { port: 8787 }, help: false, version: false });
  });

  it('reads every setting from flags, and flags win over the environment', () => {
    const { options } = parseConfig(
      [
        '--port=9000',
        '--host',
        '0.0.0.0',
        '--database',
        ':memory:',
        '--sqlite-synchronous',
        'FULL',
        '--streams-per-token',
        '3',
        '--postgres-pool-size',
        '4',
        '--issuer',
        'https://idp.example',
        '--jwks-url',
        'https://idp.example/jwks',
        '--audience',
        'a, b',
        '--algorithms',
        'RS256,RS512',
        '--access-token-lifetime',
        '120',
        '--agent-delay',
        '5',
        '--body-limit',
        '2048',
        '--message-limit',
        '100',
        '--rate-per-address',
        '0',
        '--rate-per-subject',
        '7',
        '--cors-origins',
        'https://app.example,https://admin.example',
        '--clock-tolerance',
        '30',
        '--demo',
      ],
      { TABWARDEN_PORT: '1234', TABWARDEN_HOST: '::1' },
    );
    expect(options).toEqual({
      port: 9000,
      host: '0.0.0.0',
      database: ':memory:',
      sqliteSynchronous: 'full',
      streamsPerAccessToken: 3,
      postgresPoolSize: 4,
      issuer: 'https://idp.example',
      jwksUrl: 'https://idp.example/jwks',
      audience: ['a', 'b'],
      algorithms: ['RS256', 'RS512'],
      accessTokenLifetimeSeconds: 120,
      agentReplyDelayMs: 5,
      bodyLimitBytes: 2048,
      messageTextLimit: 100,
      exchangesPerAddressPerMinute: 0,
      exchangesPerSubjectPerMinute: 7,
      corsOrigins: ['https://app.example', 'https://admin.example'],
      clockToleranceSeconds: 30,
      demo: true,
    });
  });

  it('reads the environment when no flag is given', () => {
    const { options } = parseConfig([], {
      TABWARDEN_PORT: '0',
      TABWARDEN_DEMO: 'true',
      TABWARDEN_JWKS: '{"keys":[]}',
      TABWARDEN_ISSUER: 'https://idp.example',
      TABWARDEN_DATA_DIR: '/tmp/x',
    });
    expect(options).toEqual({
      port: 0,
      demo: true,
      jwks: { keys: [] },
      issuer: 'https://idp.example',
      dataDir: '/tmp/x',
    });
  });

  it('refuses unknown flags and malformed values instead of falling back to defaults', () => {
    expect(() => parseConfig(['--prot', '1'], {})).toThrow();
    expect(() => parseConfig(['--port', 'eighty'], {})).toThrow(/--port/);
    expect(() => parseConfig([], { TABWARDEN_JWKS: '{not json' })).toThrow(/^TABWARDEN_JWKS must/);
    expect(() => parseConfig(['--jwks', '{not json'], {})).toThrow(/^--jwks must/);
    expect(() => resolveServerOptions({ port: 8787 })).toThrow(/identity provider/);
    expect(() => resolveServerOptions({ demo: true, accessTokenLifetimeSeconds: 0 })).toThrow(/positive/);
    expect(() => resolveServerOptions({ demo: true, jwksUrl: 'https://x', jwks: { keys: [] } })).toThrow(
      /only one/,
    );
  });

  it('--help and -h are understood, so is --version; the usage lists every flag with its variable', () => {
    expect(parseConfig(['--help'], {}).help).toBe(true);
    expect(parseConfig(['-h'], {}).help).toBe(true);
    expect(parseConfig(['--version'], {}).version).toBe(true);
    expect(usage()).toContain('--database');
    expect(usage()).toContain('--version');
    expect(usage()).toContain('--rate-per-subject');
    expect(usage()).toContain('TABWARDEN_CORS_ORIGINS');
  });

  it('describes the configuration without key material', () => {
    const jwks = { keys: [{ kty: 'RSA', n: 'secretish-modulus', e: 'AQAB', kid: 'k1' }] };
    const lines = describeConfig(
      resolveServerOptions({ issuer: 'https://idp.example', jwks }),
      'https://idp.example',
    );
    const text = lines.join('\n');
    expect(text).toContain('inline JWKS (1 key(s))');
    expect(text).not.toContain('secretish-modulus');
    expect(text).toContain('3600 s');
  });
});

/** parseConfig then resolveServerOptions, as the CLI does: the error message, or undefined. */
function cliError(argv: string[], env: Record<string, string> = {}): string | undefined {
  try {
    const { options, nameOf } = parseConfig(argv, env);
    resolveServerOptions(options, { nameOf });
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

describe('CLI errors name what the user set', () => {
  it('a bad value names the environment variable it came from, or the flag', () => {
    expect(cliError(['--demo'], { TABWARDEN_RATE_PER_ADDRESS: '-1' })).toBe(
      'TABWARDEN_RATE_PER_ADDRESS must be a number of at least 0',
    );
    expect(cliError(['--demo', '--rate-per-address=-1'])).toBe(
      '--rate-per-address must be a number of at least 0',
    );
    expect(cliError(['--demo'], { TABWARDEN_PORT: 'eighty' })).toBe(
      'TABWARDEN_PORT must be a number, not "eighty"',
    );
    expect(cliError(['--demo', '--access-token-lifetime', '0'])).toBe(
      '--access-token-lifetime must be a positive number',
    );
    expect(cliError(['--demo', '--port', '70000'])).toBe('--port must be a whole number from 0 to 65535');
    expect(cliError(['--demo'], { TABWARDEN_SQLITE_SYNCHRONOUS: 'off' })).toBe(
      'TABWARDEN_SQLITE_SYNCHRONOUS must be normal or full',
    );
  });

  it('a missing --jwks-file is reported as such; a keyset without an issuer, and an issuer without keys, too', () => {
    expect(cliError(['--issuer', 'https://idp.example', '--jwks-file', '/nonexistent/jwks.json'])).toBe(
      '--jwks-file /nonexistent/jwks.json: no such file',
    );
    expect(
      cliError([], {
        TABWARDEN_ISSUER: 'https://idp.example',
        TABWARDEN_JWKS_FILE: '/nonexistent/jwks.json',
      }),
    ).toBe('TABWARDEN_JWKS_FILE /nonexistent/jwks.json: no such file');
    expect(cliError(['--jwks-file', '/nonexistent/jwks.json'])).toBe(
      '--jwks-file is set but --issuer is missing: the keys need their issuer',
    );
    expect(cliError(['--issuer', 'https://idp.example'])).toBe(
      '--issuer is set but no keys to verify its tokens: give --jwks-file, --jwks or --jwks-url',
    );
    expect(cliError([])).toBe(
      'Configure the identity provider (--issuer and one of --jwks, --jwks-file, --jwks-url), or use --demo',
    );
    expect(cliError(['--issuer', 'x', '--jwks', '{"keys":[]}'], { TABWARDEN_JWKS_URL: 'https://x' })).toBe(
      'Give only one of --jwks and TABWARDEN_JWKS_URL',
    );
  });

  it('the configuration printout hides a database password', () => {
    const lines = describeConfig(
      resolveServerOptions({ demo: true, database: 'postgres://tw:hunter2@db.internal/tabwarden' }),
      'https://idp.example',
    );
    expect(lines.join('\n')).toContain('postgres://tw:***@db.internal/tabwarden');
    expect(lines.join('\n')).not.toContain('hunter2');
  });
});

describe('the CLI process', () => {
  const main = fileURLToPath(new URL('../../src/server/main.ts', import.meta.url));
  // tsx's loader in one node process (the tsx command would start a second one).
  const loader = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href;
  const run = (args: string[], env: Record<string, string> = {}) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', loader, main, ...args],
        // A loaded machine starts a TypeScript process slowly: the limit only stops a hang.
        { env: { ...process.env, ...env }, timeout: 60_000 },
        (error, stdout, stderr) =>
          resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });

  it('-h prints the usage, --version the package version, each exiting 0', async () => {
    const [help, version] = await Promise.all([run(['-h']), run(['--version'])]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--rate-per-address');
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe(packageJson.version);
  }, 90_000);

  it('a bad option exits 2 with a message naming the variable the user set, before opening anything', async () => {
    const result = await run(['--demo', '--data-dir', '/nonexistent/never-created'], {
      TABWARDEN_RATE_PER_ADDRESS: 'x',
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('TABWARDEN_RATE_PER_ADDRESS must be a number, not "x"');
    expect(result.stderr).not.toContain('exchangesPerAddressPerMinute');
  }, 90_000);
});
