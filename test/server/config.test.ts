import { describe, expect, it } from 'vitest';
import { describeConfig, parseConfig, usage } from '../../src/server/config.ts';
import { resolveServerOptions } from '../../src/server/options.ts';

describe('CLI flags and environment variables', () => {
  it('defaults to port 8787 and nothing else', () => {
    expect(parseConfig([], {})).toEqual({ options: { port: 8787 }, help: false });
  });

  it('reads every setting from flags, and flags win over the environment', () => {
    const { options } = parseConfig(
      [
        '--port=9000',
        '--host',
        '0.0.0.0',
        '--db',
        ':memory:',
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
    expect(() => parseConfig([], { TABWARDEN_JWKS: '{not json' })).toThrow(/--jwks/);
    expect(() => resolveServerOptions({ port: 8787 })).toThrow(/identity provider/);
    expect(() => resolveServerOptions({ demo: true, accessTokenLifetimeSeconds: 0 })).toThrow(/positive/);
    expect(() => resolveServerOptions({ demo: true, jwksUrl: 'https://x', jwks: { keys: [] } })).toThrow(
      /only one/,
    );
  });

  it('--help is understood and the usage lists every flag with its variable', () => {
    expect(parseConfig(['--help'], {}).help).toBe(true);
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
