import type { Clock } from './clock.ts';

/**
 * A {@link Clock} that runs like the real one, shifted by an offset that tests move forward:
 * `jumpTo(offset)` is a laptop lid closed for that long and opened again. Timers due by the new
 * time fire at once, in order; the others keep their real timers. The test kit's time machine
 * (tabwarden/testing) puts one in the reference server and, in the test build of the worker
 * bundles only, one in the worker.
 *
 * @example
 * ```ts
 * const clock = new ShiftedClock();
 * clock.setTimer(() => console.log('grace over'), 30_000);
 * clock.jumpTo(30_000); // logs at once; clock.now() is Date.now() + 30 s
 * ```
 */
export class ShiftedClock implements Clock {
  #offsetMs: number;
  #timers = new Set<Timer>();
  #seq = 0;

  constructor(offsetMs = 0) {
    this.#offsetMs = offsetMs;
  }

  /** How far ahead of the real time this clock is, in ms. */
  get offsetMs(): number {
    return this.#offsetMs;
  }

  now(): number {
    return Date.now() + this.#offsetMs;
  }

  setTimer(callback: () => void, delayMs: number): () => void {
    const timer: Timer = { at: this.now() + Math.max(0, delayMs), seq: this.#seq++, callback };
    this.#timers.add(timer);
    this.#arm(timer);
    return () => this.#drop(timer);
  }

  /**
   * Sets the offset (never backwards: time does not run back) and fires, in order, every timer
   * due by the new time; the others are due that much sooner in real time. Absolute, not a
   * delta, so a jump told twice moves time once.
   */
  jumpTo(offsetMs: number): void {
    if (offsetMs <= this.#offsetMs) return;
    this.#offsetMs = offsetMs;
    const now = this.now();
    const due = [...this.#timers].filter((t) => t.at <= now).sort((a, b) => a.at - b.at || a.seq - b.seq);
    for (const timer of due) this.#fire(timer);
    for (const timer of this.#timers) this.#arm(timer);
  }

  #arm(timer: Timer): void {
    clearTimeout(timer.handle);
    timer.handle = setTimeout(() => this.#fire(timer), Math.max(0, timer.at - this.now()));
  }

  #fire(timer: Timer): void {
    if (!this.#timers.has(timer)) return;
    this.#drop(timer);
    timer.callback();
  }

  #drop(timer: Timer): void {
    this.#timers.delete(timer);
    clearTimeout(timer.handle);
  }
}

interface Timer {
  /** When it is due, on this clock. */
  at: number;
  /** Order among timers due at the same time. */
  seq: number;
  callback: () => void;
  handle?: ReturnType<typeof setTimeout>;
}
