// The page client's call policy (src/page/call-policy.ts): which calls may go out, within what
// limit, and how a refusal reaches the caller. Time is a ManualClock: nothing here sleeps.
import { describe, expect, it } from 'vitest';
import { isTabwardenError, TabwardenError } from '../../src/core/errors.ts';
import { CallPolicy, unwrap } from '../../src/page/call-policy.ts';
import { ManualClock } from '../../src/testing/manual-clock.ts';

const never = () => new Promise<string>(() => undefined);

describe('CallPolicy', () => {
  it('R1: before ready only the handshake may go out; other calls are refused ERR_NOT_READY', () => {
    const policy = new CallPolicy({ graceMs: 30_000 });
    expect(policy.admit('hello', false)).toBe(10_000);
    for (const method of ['setIdentityToken', 'clearSession', 'sendMessage'] as const) {
      expect(() => policy.admit(method, false)).toThrow(expect.objectContaining({ code: 'ERR_NOT_READY' }));
      expect(policy.admit(method, true)).toBeGreaterThan(0);
    }
  });

  it('R6: calls that may wait out a grace window get the grace on top of their limit; the others do not', () => {
    const policy = new CallPolicy({ graceMs: 30_000 });
    for (const method of ['startConversation', 'sendMessage', 'listEntries'] as const) {
      expect(policy.admit(method, true)).toBe(40_000);
    }
    for (const method of [
      'hello',
      'setIdentityToken',
      'clearSession',
      'followEntries',
      'listOutbox',
    ] as const) {
      expect(policy.admit(method, true)).toBe(10_000);
    }
  });

  it('R10: callTimeoutMs sets every limit, the grace still on top where a call may wait', () => {
    const policy = new CallPolicy({ callTimeoutMs: 2_000, graceMs: 5_000 });
    expect(policy.admit('clearSession', true)).toBe(2_000);
    expect(policy.admit('sendMessage', true)).toBe(7_000);
  });

  it('R10: a provider that never answers rejects ERR_TIMEOUT when the limit passes on the clock, not before', async () => {
    const clock = new ManualClock(0);
    const policy = new CallPolicy({ callTimeoutMs: 2_000, graceMs: 30_000 }, clock);
    const outcome = policy.askProvider(never).then(
      () => 'resolved',
      (error: unknown) => error,
    );
    await clock.advance(1_999);
    expect(await Promise.race([outcome, Promise.resolve('pending')])).toBe('pending');
    await clock.advance(1);
    const error = await outcome;
    expect(isTabwardenError(error) && error.code).toBe('ERR_TIMEOUT');
    expect((error as Error).message).toBe('identityTokenProvider did not answer within 2000 ms');
  });

  it('R10: an answer within the limit wins and leaves no timer behind', async () => {
    const clock = new ManualClock(0);
    const policy = new CallPolicy({ graceMs: 30_000 }, clock);
    await expect(policy.askProvider(() => Promise.resolve('token'))).resolves.toBe('token');
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('unwrap', () => {
  it('R14: a refusal reaches the caller as a coded error, its code and retry delay unchanged', () => {
    expect(unwrap({ ok: true, value: 7 })).toBe(7);
    let thrown: unknown;
    try {
      unwrap({ ok: false, error: { code: 'ERR_RATE_LIMITED', message: 'slow down', retryAfterMs: 1_500 } });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TabwardenError);
    expect(thrown).toMatchObject({ code: 'ERR_RATE_LIMITED', message: 'slow down', retryAfterMs: 1_500 });
  });
});
