import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apiPaths } from '../../src/core/server-api.ts';
import { createRedactingLogger, redactSecrets, redactToken } from '../../src/server/index.ts';
import { createServerLog } from '../../src/server/log.ts';
import { createHarness, exchange, openEvents, request } from './helpers.ts';

let harness: Awaited<ReturnType<typeof createHarness>>;
beforeEach(async () => {
  harness = await createHarness();
});
afterEach(async () => {
  await harness.cleanup();
});

describe('logs never carry a token (R3)', () => {
  it('a whole session — exchanges good and bad, conversation, stream, revoke, errors — logs only redacted forms', async () => {
    const lines: string[] = [];
    const server = await harness.start({ log: (line) => lines.push(line), exchangesPerSubjectPerMinute: 3 });
    const identityToken = await harness.idp.mint({ sub: 'alice' });
    const expired = await harness.idp.mint({ sub: 'alice', expiresInSeconds: -10 });
    const { accessToken } = await exchange(server, identityToken);
    await request(server, 'POST', '/v1/authorization', { body: { identityToken: expired } });
    await request(server, 'POST', '/v1/authorization', { body: { identityToken: `${identityToken}x` } });
    // Someone puts a token in a query string: the query is never logged.
    const { body } = await request(server, 'POST', `${apiPaths.conversations}?access_token=${accessToken}`, {
      accessToken,
    });
    const events = await openEvents(server, body.conversationId, accessToken);
    await request(server, 'POST', apiPaths.messages(body.conversationId), {
      accessToken,
      body: { clientMessageId: 'm1', text: 'hi' },
    });
    await events.nextEntry();
    await request(server, 'POST', '/v1/authorization/revoke', { accessToken });
    await request(server, 'GET', apiPaths.entries(body.conversationId), { accessToken });
    await request(server, 'POST', '/v1/authorization', { body: { identityToken } });
    await request(server, 'POST', '/v1/authorization', { body: { identityToken } });
    await server.close();

    const log = lines.join('\n');
    expect(lines.length).toBeGreaterThan(8);
    for (const secret of [
      identityToken,
      expired,
      accessToken,
      ...identityToken.split('.'),
      ...accessToken.split('.'),
    ]) {
      expect(log).not.toContain(secret);
    }
    expect(log).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
    expect(log).toContain(`token=${redactToken(identityToken)}`);
    expect(log).toContain('exchange refused ERR_TOKEN_EXPIRED');
  });

  it('redactSecrets replaces JWTs and bearer credentials, and is stable under a second pass', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';
    const line = `authorization: Bearer opaque-secret-123; token ${jwt} in "Bearer ${jwt}"`;
    const redacted = redactSecrets(line);
    expect(redacted).not.toContain('opaque-secret-123');
    expect(redacted).not.toContain(jwt);
    expect(redacted).toContain(redactToken(jwt));
    expect(redactSecrets(redacted)).toBe(redacted);
    expect(redactToken(jwt)).toMatch(/^\[redacted sha256:[0-9a-f]{8}\]$/);
    expect(redactToken(undefined)).toBe('[no token]');
  });

  it('createRedactingLogger stamps and redacts every line', () => {
    const lines: string[] = [];
    const log = createRedactingLogger(
      (line) => lines.push(line),
      () => Date.parse('2030-01-01T00:00:00Z'),
    );
    log('Bearer abc.def.ghi');
    expect(lines).toEqual([`2030-01-01T00:00:00.000Z Bearer ${redactToken('abc.def.ghi')}`]);
  });

  it("the server's log redacts every line for a sink, and is disabled (nothing to build) without one", () => {
    const lines: string[] = [];
    const log = createServerLog((line) => lines.push(line));
    expect(log.enabled).toBe(true);
    log('exchange ok token=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl');
    expect(lines).toEqual([
      `exchange ok token=${redactToken('eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl')}`,
    ]);
    const silent = createServerLog(undefined);
    expect(silent.enabled).toBe(false);
    expect(() => silent('anything')).not.toThrow();
  });
});
