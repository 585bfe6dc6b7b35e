import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TabwardenError } from '../../src/core/errors.ts';
import { eventMessage, reconnectRequest } from '../../src/core/event-message.ts';
import type { TabState } from '../../src/core/protocol.ts';
import { Tabwarden } from '../../src/page/tabwarden.ts';
import type { TabMethod, WorkerLink } from '../../src/page/worker-link.ts';

/** A link whose answers the test scripts, one queue per method; it records every call. */
function scriptedLink(answers: Partial<Record<TabMethod, Array<() => Promise<unknown>>>>) {
  const calls: TabMethod[] = [];
  const link: WorkerLink = {
    kind: 'shared-worker',
    call: ((method: TabMethod) => {
      calls.push(method);
      const next = answers[method]?.shift();
      if (!next) return Promise.reject(new Error(`unscripted call ${method}`));
      return next();
    }) as WorkerLink['call'],
    close: () => undefined,
  };
  return { link, calls };
}

const unverified: TabState = { sessionVersion: 1, verified: false };
const claims = { iss: 'https://idp.test', sub: 'alice', aud: 'app', exp: 2_000_000_000, iat: 1 };
const timedOut = () =>
  Promise.reject(new TabwardenError('ERR_TIMEOUT', 'The worker did not answer restoreIdentityToken'));

describe('Tabwarden', () => {
  beforeEach(() => vi.stubGlobal('addEventListener', () => undefined));
  afterEach(() => vi.unstubAllGlobals());

  it('R10/R7: a tab whose re-presented token timed out (its clock jumped past the call limit) still learns of a clear it missed', async () => {
    const { link, calls } = scriptedLink({
      hello: [async () => ({ protocol: 1, state: unverified })],
      setIdentityToken: [async () => ({ ok: true, value: claims })],
      // The worker restarted; the first re-presentation dies with the page's call limit (a clock
      // jump fires every pending timer at once), the second finds the session cleared meanwhile.
      restoreIdentityToken: [
        timedOut,
        async () => ({ ok: false, error: { code: 'ERR_SESSION_CLEARED', message: 'cleared' } }),
      ],
      getState: [
        async () => ({ sessionVersion: 2, verified: false, lastClearReason: 'identity-token-timeout' }),
      ],
    });
    const tabwarden = new Tabwarden(link, { serverUrl: 'http://127.0.0.1:1', graceMs: 30_000 });
    await tabwarden.connect();
    await tabwarden.setIdentityToken('token-of-alice');
    const cleared: unknown[] = [];
    tabwarden.addEventListener('session-cleared', (event) => cleared.push(event.detail));

    await tabwarden.handleEvent(eventMessage('tab-1', reconnectRequest(0)));

    expect(cleared).toEqual([{ reason: 'identity-token-timeout' }]);
    expect(tabwarden.state).toMatchObject({ sessionVersion: 2, verified: false });
    expect(calls.filter((method) => method === 'restoreIdentityToken')).toHaveLength(2);
  });

  it('R10: a re-presentation that keeps timing out ends with ERR_TIMEOUT after one retry, never hangs', async () => {
    const { link, calls } = scriptedLink({
      hello: [async () => ({ protocol: 1, state: unverified })],
      setIdentityToken: [async () => ({ ok: true, value: claims })],
      restoreIdentityToken: [timedOut, timedOut],
    });
    const tabwarden = new Tabwarden(link, { serverUrl: 'http://127.0.0.1:1', graceMs: 30_000 });
    await tabwarden.connect();
    await tabwarden.setIdentityToken('token-of-alice');

    await expect(tabwarden.handleEvent(eventMessage('tab-1', reconnectRequest(0)))).rejects.toMatchObject({
      code: 'ERR_TIMEOUT',
    });
    expect(calls.filter((method) => method === 'restoreIdentityToken')).toHaveLength(2);
    expect(tabwarden.state).toMatchObject({ verified: true });
  });
});
