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
 * await channel.call('sendMessage', args, policy.admit('sendMessage', ready)); // 40 s
 * ```
 */
export class CallPolicy {
  readonly #timeoutMs: number;
  readonly #graceMs: number;
  readonly #clock: Clock;

  constructor(options: CallPolicyOptions, clock: Clock = systemClock) {
    this.#timeoutMs = options.callTimeoutMs ?? CALL_TIMEOUT_MS;
    this.#graceMs = options.graceMs;
    this.#clock = clock;
  }

  /**
   * Admits a call and gives its time limit: longer for calls that may wait out a grace window
   * (R6). Before the link is up only the handshake may go out; any other call throws
   * `ERR_NOT_READY` (R1).
   */
  admit(method: TabMethod, ready: boolean): number {
    if (!ready && method !== 'hello') throw new TabwardenError('ERR_NOT_READY', 'Wait for the ready event');
    return MAY_WAIT.has(method) ? this.#timeoutMs + this.#graceMs : this.#timeoutMs;
  }

  /**
   * The app's `identityTokenProvider` asked, or `ERR_TIMEOUT` once a call's limit passed on the
   * clock: the client awaits it outside the worker, and no turn may be held for ever.
   */
  askProvider(provider: () => Promise<string>): Promise<string> {
    const timeoutMs = this.#timeoutMs;
    return withTimeout(
      provider(),
      timeoutMs,
      this.#clock,
      () => new TabwardenError('ERR_TIMEOUT', `identityTokenProvider did not answer within ${timeoutMs} ms`),
    );
  }
}

/** The value of the worker's answer, or its refusal as a coded error, code unchanged (R14). */
export function unwrap<T>(result: RpcResult<T>): T {
  if (result.ok) return result.value;
  throw deserializeError(result.error);
}
