// When a tab asks the app's identityTokenProvider by itself (src/page/refresh-scheduler.ts).
// Time is a ManualClock: nothing here sleeps.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RefreshScheduler } from '../../src/page/refresh-scheduler.ts';
import { ManualClock } from '../../src/testing/manual-clock.ts';

const START = Date.parse('2030-01-01T00:00:00Z');
/** An `exp` (seconds) `ms` after the clock's start. */
const expIn = (ms: number) => (START + ms) / 1000;

/** A scheduler whose client is the test: it records what the provider gave and was presented. */
function tab(options: { refreshAheadMs?: number; provider?: () => Promise<string> } = {}) {
  const clock = new ManualClock(START);
  let asked = 0;
  const presented: string[] = [];
  const state = { verified: false };
  const scheduler: RefreshScheduler = new RefreshScheduler(
    {
      provider: options.provider ?? (() => Promise.resolve(`token-${++asked}`)),
      present: (token) => {
        presented.push(token);
        // As the client does with a verified token: it holds it now and schedules its refresh.
        state.verified = true;
        scheduler.schedule(expIn(clock.now() - START + 300_000));
        return Promise.resolve();
      },
      verified: () => state.verified,
      ...(options.refreshAheadMs === undefined ? {} : { refreshAheadMs: options.refreshAheadMs }),
    },
    clock,
  );
  return { clock, scheduler, presented, state, asked: () => asked };
}

describe('RefreshScheduler', () => {
  beforeEach(() => vi.stubGlobal('navigator', {}));
  afterEach(() => vi.unstubAllGlobals());

  it('R3: asks the provider 30 s before the token expires, not sooner, and presents what it gave', async () => {
    const { clock, scheduler, presented } = tab();
    scheduler.schedule(expIn(300_000));
    await clock.advance(269_999);
    expect(presented).toEqual([]);
    await clock.advance(1);
    expect(presented).toEqual(['token-1']);
  });

  it('R3: refreshAheadMs sets how long before exp the provider is asked', async () => {
    const { clock, scheduler, presented } = tab({ refreshAheadMs: 60_000 });
    scheduler.schedule(expIn(300_000));
    await clock.advance(239_999);
    expect(presented).toEqual([]);
    await clock.advance(1);
    expect(presented).toEqual(['token-1']);
  });

  it('R3: a token that lives shorter than the lead time is refreshed after 5 s at the earliest: no refresh loop', async () => {
    const { clock, scheduler, asked } = tab();
    scheduler.schedule(expIn(10_000));
    await clock.advance(4_999);
    expect(asked()).toBe(0);
    await clock.advance(1);
    expect(asked()).toBe(1);
    // The new token lives 300 s: the next ask is 270 s away, not 5 s.
    await clock.advance(60_000);
    expect(asked()).toBe(1);
  });

  it('R9: only a later exp moves the appointment; an earlier or equal one leaves it', async () => {
    const { clock, scheduler, asked } = tab();
    scheduler.schedule(expIn(300_000));
    scheduler.schedule(expIn(100_000));
    scheduler.schedule(expIn(300_000));
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(269_999);
    expect(asked()).toBe(0);

    scheduler.schedule(expIn(600_000));
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(1);
    expect(asked()).toBe(0);
    await clock.advance(300_000);
    expect(asked()).toBe(1);
  });

  it('R9: a verified tab whose token is not yet due does not ask: the token another tab fetched reached it', async () => {
    const { scheduler, state, asked } = tab();
    scheduler.schedule(expIn(300_000));
    state.verified = true;
    await scheduler.ask();
    expect(asked()).toBe(0);
    // Unverified (ready, a clear), it asks whatever the exp.
    state.verified = false;
    await scheduler.ask();
    expect(asked()).toBe(1);
  });

  it('R9: tabs asking at once take turns under one lock, and those after the first need not ask', async () => {
    const names: string[] = [];
    let queue = Promise.resolve();
    const locks = {
      request: (name: string, callback: () => Promise<void>) => {
        names.push(name);
        const turn = queue.then(callback);
        queue = turn.catch(() => undefined);
        return turn;
      },
    };
    vi.stubGlobal('navigator', { locks });
    const { scheduler, asked } = tab();
    await Promise.all([scheduler.ask(), scheduler.ask(), scheduler.ask()]);
    expect(asked()).toBe(1);
    expect(names).toEqual(Array(3).fill('tabwarden:identity-token-provider'));
  });

  it('R6: a failing provider presents nothing and the ask settles, so the grace decides', async () => {
    const { scheduler, presented } = tab({ provider: () => Promise.reject(new Error('IdP down')) });
    await expect(scheduler.ask()).resolves.toBeUndefined();
    expect(presented).toEqual([]);
  });

  it('R7: a reset (the session cleared) drops the appointment, and the next token is scheduled afresh', async () => {
    const { clock, scheduler, asked } = tab();
    scheduler.schedule(expIn(300_000));
    scheduler.reset();
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(300_000);
    expect(asked()).toBe(0);

    // The same exp again (the user signs back in with it): scheduled, not taken for a known one.
    scheduler.schedule(expIn(600_000));
    scheduler.reset();
    scheduler.schedule(expIn(600_000));
    expect(clock.pendingTimers).toBe(1);
  });

  it('R3: a closed tab asks no more', async () => {
    const { clock, scheduler, asked } = tab();
    scheduler.schedule(expIn(300_000));
    scheduler.cancel();
    await clock.advance(600_000);
    expect(asked()).toBe(0);
  });
});
