import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/server/rate-limit.ts';
import { ManualClock } from '../../src/testing/index.ts';

describe('RateLimiter', () => {
  it('allows a burst of perMinute, then refills evenly', async () => {
    const clock = new ManualClock(0);
    const limiter = new RateLimiter({ perMinute: 6, clock });
    for (let i = 0; i < 6; i++) expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterSeconds: 10 });
    expect(limiter.take('b').allowed).toBe(true);
    await clock.advance(9_999);
    expect(limiter.take('a').allowed).toBe(false);
    await clock.advance(1);
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a').allowed).toBe(false);
  });

  it('is off at 0', () => {
    const limiter = new RateLimiter({ perMinute: 0, clock: new ManualClock(0) });
    for (let i = 0; i < 1000; i++) expect(limiter.take('a').allowed).toBe(true);
  });

  it('keeps at most maxKeys buckets, forgetting idle ones first', async () => {
    const clock = new ManualClock(0);
    const limiter = new RateLimiter({ perMinute: 1, clock, maxKeys: 3 });
    limiter.take('busy');
    for (let i = 0; i < 100; i++) limiter.take(`drive-by-${i}`);
    // A flood of keys never grows memory past the cap; the busy key may be forgotten, not worse.
    expect(limiter.take('fresh').allowed).toBe(true);
    await clock.advance(60_000);
    for (let i = 0; i < 3; i++) limiter.take(`later-${i}`);
    expect(limiter.take('later-0').allowed).toBe(false);
  });
});
