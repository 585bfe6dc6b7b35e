/**
 * Time as the engine sees it. Injected, so tests move time by hand and the engine never reads
 * `Date.now()` or starts a timer behind their back.
 *
 * @example
 * ```ts
 * const engine = createSessionEngine({ clock: systemClock, ... });
 * ```
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `callback` once after `delayMs`; the returned function cancels it. */
  setTimer(callback: () => void, delayMs: number): () => void;
}

/** The real clock of whatever runtime core runs in. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(callback, delayMs) {
    const handle = setTimeout(callback, delayMs);
    return () => clearTimeout(handle);
  },
};

/** Resolves `promise`, or rejects with `onTimeout()` after `timeoutMs` on `clock`. */
export function withTimeout<T>(
  promise: Promise<T>,
  timeoutMs: number,
  clock: Clock,
  onTimeout: () => Error,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const cancel = clock.setTimer(() => reject(onTimeout()), timeoutMs);
    promise.then(
      (value) => {
        cancel();
        resolve(value);
      },
      (error: unknown) => {
        cancel();
        reject(error);
      },
    );
  });
}

/**
 * Resolves when `promise` settles or after `ms` on `clock`, whichever comes first. Never
 * rejects, and leaves no timer behind: for waits that give up quietly (a tab's confirmation).
 */
export function within(promise: Promise<unknown>, ms: number, clock: Clock = systemClock): Promise<void> {
  return new Promise<void>((resolve) => {
    const cancel = clock.setTimer(resolve, ms);
    const done = () => {
      cancel();
      resolve();
    };
    promise.then(done, done);
  });
}
