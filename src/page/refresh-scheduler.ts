import { systemClock, type Clock } from '../core/clock.ts';

/** What the scheduler needs from the page client. */
export interface RefreshSchedulerOptions {
  /** The app's identity-token provider, already bounded in time (see `CallPolicy.askProvider`). */
  provider: () => Promise<string>;
  /** Presents a token the provider gave; rejections are the client's to announce. */
  present: (identityToken: string) => Promise<unknown>;
  /** Whether this tab is verified now. */
  verified: () => boolean;
  /** How long before `exp` the provider is asked. Default 30 s. */
  refreshAheadMs?: number;
}

const REFRESH_AHEAD_MS = 30_000;
// Never ask the provider more often than this, whatever the token's lifetime (no refresh loops).
const MIN_REFRESH_DELAY_MS = 5_000;
// Held by the tab asking its identityTokenProvider (one at a time, per origin).
const PROVIDER_LOCK = 'tabwarden:identity-token-provider';

/**
 * When a tab asks the app's `identityTokenProvider` for a new identity token by itself (R3):
 * shortly before the current token's `exp`, and whenever the client says so (ready, the expiry
 * event of R6). One tab at a time per origin, and not at all while this tab holds a token that
 * is not yet due: a token another tab fetched reaches this one first (R9).
 *
 * @example
 * ```ts
 * const refresh = new RefreshScheduler({ provider, present: (t) => tw.setIdentityToken(t), verified });
 * refresh.schedule(claims.exp); // asks 30 s before exp
 * ```
 */
export class RefreshScheduler {
  readonly #options: RefreshSchedulerOptions;
  readonly #aheadMs: number;
  readonly #clock: Clock;
  #cancelTimer: (() => void) | undefined;
  /** The `exp` the timer is set for. */
  #refreshFor = 0;

  constructor(options: RefreshSchedulerOptions, clock: Clock = systemClock) {
    this.#options = options;
    this.#aheadMs = options.refreshAheadMs ?? REFRESH_AHEAD_MS;
    this.#clock = clock;
  }

  /** Asks the provider shortly before `exp` (seconds); only a later `exp` moves the appointment. */
  schedule(exp: number): void {
    if (exp <= this.#refreshFor) return;
    this.#refreshFor = exp;
    this.#cancelTimer?.();
    const delay = exp * 1000 - this.#clock.now() - this.#aheadMs;
    this.#cancelTimer = this.#clock.setTimer(() => void this.ask(), Math.max(MIN_REFRESH_DELAY_MS, delay));
  }

  /**
   * Asks the provider for a token and presents it, one tab at a time: a token another tab
   * fetched meanwhile reaches this one as identity-token-refreshed (R9), and then this tab need
   * not ask. Ten tabs waking after a sleep past the token's expiry make one provider call, not
   * ten. Never rejects.
   */
  async ask(): Promise<void> {
    const ask = async () => {
      // This tab holds a token that is not yet due for a refresh (one another tab fetched, R9).
      if (this.#options.verified() && this.#refreshFor * 1000 - this.#clock.now() > this.#aheadMs) return;
      try {
        await this.#options.present(await this.#options.provider());
      } catch {
        // Rejections are announced by the client; a failing provider leaves R6 to decide.
      }
    };
    if (navigator.locks) await navigator.locks.request(PROVIDER_LOCK, ask);
    else await ask();
  }

  /** Stops the timer (the tab closes). */
  cancel(): void {
    this.#cancelTimer?.();
  }

  /** Stops the timer and forgets the token's `exp` (the session was cleared). */
  reset(): void {
    this.cancel();
    this.#refreshFor = 0;
  }
}
