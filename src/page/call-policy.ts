import { systemClock, withTimeout, type Clock } from '../core/clock.ts';
import { deserializeError, TabwardenError } from '../core/errors.ts';
import type { RpcResult } from '../core/protocol.ts';
import type { TabMethod } from './tab-channel.ts';

/** The limits the page client's options set. */
export interface CallPolicyOptions {
  /** Time limit of one call. Default 10 s. */
  callTimeoutMs?: number;
  /** The worker's grace window (R6): a call that may wait for a new token gets this much longer. */
  graceMs: number;
}

// A call's own limit: what the worker does for a tab (verify, exchange, send) takes a few
// seconds at worst. A dead worker is noticed and the call re-sent long before (TabChannel).
const CALL_TIMEOUT_MS = 10_000;
// Calls that may wait for a grace window to end (R6): they get the grace on top.
const MAY_WAIT = new Set<TabMethod>(['startConversation', 'sendMessage', 'listEntries']);

/**
 * What the page client's calls may do: none but the handshake before ready (R1), each within a
 * time limit that covers a grace window where the call may wait one out (R6), and none waits
 * forever, not even on the app's token provider (R10).
 *
 * @example
 * ```ts
 * const policy = new CallPolicy({ graceMs: 30_000 });
 * policy.refusal('sendMessage', ready); // ERR_NOT_READY before ready, else undefined
 * await channel.call('sendMessage', args, policy.limitOf('sendMessage')); // 40 s
 * ```
 */
export class CallPolicy {
  readonly #options: CallPolicyOptions;
  readonly #clock: Clock;

  constructor(options: CallPolicyOptions, clock: Clock = systemClock) {
    this.#options = options;
    this.#clock = clock;
  }

  /** Why a call may not go out: before the link is up, only the handshake may (R1). */
  refusal(method: TabMethod, ready: boolean): TabwardenError | undefined {
    return ready || method === 'hello'
      ? undefined
      : new TabwardenError('ERR_NOT_READY', 'Wait for the ready event');
  }

  /** The time limit of one call to the worker: longer for calls that may wait out a grace window (R6). */
  limitOf(method: TabMethod): number {
    return MAY_WAIT.has(method) ? this.#timeoutMs + this.#options.graceMs : this.#timeoutMs;
  }

  /**
   * `promise`, or `ERR_TIMEOUT` once a call's limit passed on the clock: for what the client
   * awaits outside the worker (the app's `identityTokenProvider`), so no turn is held for ever.
   */
  bound<T>(promise: Promise<T>, what: string): Promise<T> {
    const timeoutMs = this.#timeoutMs;
    return withTimeout(
      promise,
      timeoutMs,
      this.#clock,
      () => new TabwardenError('ERR_TIMEOUT', `${what} did not answer within ${timeoutMs} ms`),
    );
  }

  get #timeoutMs(): number {
    return this.#options.callTimeoutMs ?? CALL_TIMEOUT_MS;
  }
}

/** The value of the worker's answer, or its refusal as a coded error, code unchanged (R14). */
export function unwrap<T>(result: RpcResult<T>): T {
  if (result.ok) return result.value;
  throw deserializeError(result.error);
}
