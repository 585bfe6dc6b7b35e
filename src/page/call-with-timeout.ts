import type * as Comlink from 'comlink';
import { systemClock, withTimeout } from '../core/clock.ts';
import { TabwardenError } from '../core/errors.ts';
import type { TabApi } from '../core/protocol.ts';
import type { TabMethod } from './worker-link.ts';

/** Calls `method` on a comlink-wrapped {@link TabApi}, giving up with ERR_TIMEOUT after `timeoutMs`. */
export function callWithTimeout<M extends TabMethod>(
  api: Comlink.Remote<TabApi>,
  timeoutMs: number,
  method: M,
  args: Parameters<TabApi[M]>,
): Promise<Awaited<ReturnType<TabApi[M]>>> {
  const remote = api[method] as unknown as (...a: unknown[]) => Promise<Awaited<ReturnType<TabApi[M]>>>;
  return withTimeout(
    remote(...args),
    timeoutMs,
    systemClock,
    () => new TabwardenError('ERR_TIMEOUT', `The worker did not answer ${method} within ${timeoutMs} ms`),
  );
}
