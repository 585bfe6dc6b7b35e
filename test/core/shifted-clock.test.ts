import { afterEach, describe, expect, it, vi } from 'vitest';
import { ShiftedClock } from '../../src/core/shifted-clock.ts';

describe('ShiftedClock', () => {
  afterEach(() => vi.useRealTimers());

  it('runs like the real clock, shifted by its offset', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const clock = new ShiftedClock(5_000);
    expect(clock.now()).toBe(1_005_000);
    vi.advanceTimersByTime(10);
    expect(clock.now()).toBe(1_005_010);
  });

  it('a jump fires, in order, every timer due by the new time and no other', () => {
    vi.useFakeTimers({ now: 0 });
    const clock = new ShiftedClock();
    const fired: string[] = [];
    clock.setTimer(() => fired.push('grace (30 s)'), 30_000);
    clock.setTimer(() => fired.push('expiry (10 s)'), 10_000);
    clock.setTimer(() => fired.push('later (60 s)'), 60_000);
    clock.jumpTo(30_000);
    expect(fired).toEqual(['expiry (10 s)', 'grace (30 s)']);
    expect(clock.now()).toBe(30_000);
    // The jumped timers do not fire again; the one left is due 30 s sooner in real time.
    vi.advanceTimersByTime(29_999);
    expect(fired).toEqual(['expiry (10 s)', 'grace (30 s)']);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(['expiry (10 s)', 'grace (30 s)', 'later (60 s)']);
  });

  it('a timer left alone fires on its real time, once', () => {
    vi.useFakeTimers({ now: 0 });
    const clock = new ShiftedClock();
    const callback = vi.fn();
    clock.setTimer(callback, 100);
    vi.advanceTimersByTime(100);
    clock.jumpTo(1_000);
    expect(callback).toHaveBeenCalledTimes(1);
  });

  it('a cancelled timer never fires, whether time jumps or runs', () => {
    vi.useFakeTimers({ now: 0 });
    const clock = new ShiftedClock();
    const callback = vi.fn();
    clock.setTimer(callback, 100)();
    clock.jumpTo(1_000);
    vi.advanceTimersByTime(1_000);
    expect(callback).not.toHaveBeenCalled();
  });

  it('a jump is absolute and never goes back: told twice, time moves once', () => {
    vi.useFakeTimers({ now: 0 });
    const clock = new ShiftedClock();
    clock.jumpTo(60_000);
    clock.jumpTo(60_000);
    clock.jumpTo(10_000);
    expect(clock.offsetMs).toBe(60_000);
    expect(clock.now()).toBe(60_000);
  });
});
