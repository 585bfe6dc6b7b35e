import type { Clock } from '../core/clock.ts';

/** The outcome of one {@link RateLimiter.take}. */
export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/**
 * Token buckets, one per key (a client address, a subject): `perMinute` requests in a burst,
 * refilled evenly over a minute. Keys are kept in a bounded map, so a flood of distinct keys
 * costs memory up to `maxKeys` and no more; full buckets are dropped first, as they carry no
 * information.
 *
 * @example
 * ```ts
 * const perAddress = new RateLimiter({ perMinute: 60, clock: systemClock });
 * const decision = perAddress.take(address);
 * if (!decision.allowed) return tooManyRequests(decision.retryAfterSeconds);
 * ```
 */
export class RateLimiter {
  readonly #capacity: number;
  readonly #refillPerMs: number;
  readonly #clock: Clock;
  readonly #maxKeys: number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(options: { perMinute: number; clock: Clock; maxKeys?: number }) {
    this.#capacity = options.perMinute;
    this.#refillPerMs = options.perMinute / 60_000;
    this.#clock = options.clock;
    this.#maxKeys = options.maxKeys ?? 10_000;
  }

  /** Whether limiting is on at all (`perMinute: 0` turns it off). */
  get enabled(): boolean {
    return this.#capacity > 0;
  }

  /** Takes one token from `key`'s bucket, or says how long until one is there. */
  take(key: string): RateDecision {
    if (!this.enabled) return { allowed: true };
    const now = this.#clock.now();
    const bucket = this.#refill(key, now);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    const waitMs = (1 - bucket.tokens) / this.#refillPerMs;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
  }

  #refill(key: string, now: number): { tokens: number; at: number } {
    let bucket = this.#buckets.get(key);
    if (bucket) {
      bucket.tokens = Math.min(this.#capacity, bucket.tokens + (now - bucket.at) * this.#refillPerMs);
      bucket.at = now;
      // Re-insert, so the map's order is least recently used first.
      this.#buckets.delete(key);
    } else {
      bucket = { tokens: this.#capacity, at: now };
      if (this.#buckets.size >= this.#maxKeys) this.#evict(now);
    }
    this.#buckets.set(key, bucket);
    return bucket;
  }

  #evict(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      if (bucket.tokens + (now - bucket.at) * this.#refillPerMs >= this.#capacity) this.#buckets.delete(key);
    }
    // Still too many busy keys: forget the least recently used (they may burst once more).
    for (const key of this.#buckets.keys()) {
      if (this.#buckets.size < this.#maxKeys) break;
      this.#buckets.delete(key);
    }
  }
}
