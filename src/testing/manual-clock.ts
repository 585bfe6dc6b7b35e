import type { Clock } from '../core/clock.ts';

/**
 * A {@link Clock} that moves only when told, for tests of expiry, grace windows and timeouts.
 *
 * @example
 * ```ts
 * const clock = new ManualClock(Date.parse('2030-01-01T00:00:00Z'));
 * const engine = await SessionEngine.create({ clock, ... });
 * await clock.advance(30_000); // fires every timer due by then, in order
 * ```
 */
export class ManualClock implements Clock {
  #now: number;
  #timers: Array<{ at: number; seq: number; callback: () => void }> = [];
  #seq = 0;

  constructor(startMs = Date.now()) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimer(callback: () => void, delayMs: number): () => void {
    const timer = { at: this.#now + Math.max(0, delayMs), seq: this.#seq++, callback };
    this.#timers.push(timer);
    return () => {
      this.#timers = this.#timers.filter((t) => t !== timer);
    };
  }

  /** Number of timers not yet fired. */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  /**
   * Moves time forward by `ms`, firing due timers in order. Between timers it lets pending
   * promise callbacks run, so work a timer starts can settle before the next one fires.
   */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      const next = this.#timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!next) break;
      this.#timers = this.#timers.filter((t) => t !== next);
      this.#now = next.at;
      next.callback();
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.#now = target;
    await new Promise((resolve) => setImmediate(resolve));
  }
}
