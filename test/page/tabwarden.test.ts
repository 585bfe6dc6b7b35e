import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TabwardenError } from '../../src/core/errors.ts';
import { eventMessage, reconnectRequest } from '../../src/core/event-message.ts';
import type { ConversationEntry, TabState } from '../../src/core/protocol.ts';
import { Tabwarden } from '../../src/page/tabwarden.ts';
import type { TabMethod, WorkerLink } from '../../src/page/worker-link.ts';

/** A link whose answers the test scripts, one queue per method; it records every call. */
function scriptedLink(
  answers: Partial<Record<TabMethod, Array<() => Promise<unknown>>>>,
  kind: WorkerLink['kind'] = 'shared-worker',
) {
  const calls: TabMethod[] = [];
  const args: Array<[TabMethod, unknown[]]> = [];
  const link: WorkerLink = {
    kind,
    call: ((method: TabMethod, methodArgs: unknown[]) => {
      calls.push(method);
      args.push([method, methodArgs]);
      const next = answers[method]?.shift();
      if (!next) return Promise.reject(new Error(`unscripted call ${method}`));
      return next();
    }) as WorkerLink['call'],
    close: () => undefined,
  };
  return { link, calls, args };
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
    const tabwarden = new Tabwarden(link, { graceMs: 30_000 });
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
    const tabwarden = new Tabwarden(link, { graceMs: 30_000 });
    await tabwarden.connect();
    await tabwarden.setIdentityToken('token-of-alice');

    await expect(tabwarden.handleEvent(eventMessage('tab-1', reconnectRequest(0)))).rejects.toMatchObject({
      code: 'ERR_TIMEOUT',
    });
    expect(calls.filter((method) => method === 'restoreIdentityToken')).toHaveLength(2);
    expect(tabwarden.state).toMatchObject({ verified: true });
  });

  describe('watchEntries', () => {
    const entry = (seq: number): ConversationEntry => ({
      conversationId: 'c',
      seq,
      role: seq % 2 ? 'user' : 'agent',
      text: `entry ${seq}`,
      createdAt: seq,
    });
    const entriesEvent = (seqs: number[]) =>
      eventMessage('tab-1', {
        type: 'entries',
        sessionVersion: 1,
        conversationId: 'c',
        entries: seqs.map(entry),
      });

    it('R12: live entries that arrive while the follow call is in flight come after the cached ones, each once, in order', async () => {
      let answerFollow: (value: unknown) => void = () => undefined;
      const { link } = scriptedLink({
        hello: [async () => ({ protocol: 1, state: unverified })],
        setIdentityToken: [async () => ({ ok: true, value: claims })],
        followEntries: [() => new Promise((resolve) => (answerFollow = resolve))],
      });
      const tabwarden = new Tabwarden(link, { graceMs: 30_000 });
      await tabwarden.connect();
      await tabwarden.setIdentityToken('token-of-alice');
      const heard: number[][] = [];
      tabwarden.addEventListener('entries', (event) => heard.push(event.detail.entries.map((e) => e.seq)));

      tabwarden.watchEntries(0);
      await tabwarden.handleEvent(entriesEvent([2, 3]));
      expect(heard).toEqual([]);
      answerFollow({ ok: true, value: [entry(1), entry(2)] });
      await vi.waitFor(() => expect(heard).toEqual([[1, 2], [3]]));
      await tabwarden.handleEvent(entriesEvent([3, 4]));
      expect(heard).toEqual([[1, 2], [3], [4]]);
    });

    it('R10/R12: after a worker restart the tab follows again, from the last entry it dispatched', async () => {
      const { link, args } = scriptedLink({
        hello: [async () => ({ protocol: 1, state: unverified })],
        setIdentityToken: [async () => ({ ok: true, value: claims })],
        followEntries: [async () => ({ ok: true, value: [entry(1)] }), async () => ({ ok: true, value: [] })],
        restoreIdentityToken: [async () => ({ ok: true, value: claims })],
      });
      const tabwarden = new Tabwarden(link, { graceMs: 30_000 });
      await tabwarden.connect();
      await tabwarden.setIdentityToken('token-of-alice');
      tabwarden.watchEntries(0);
      await vi.waitFor(() => expect(args.filter(([method]) => method === 'followEntries')).toHaveLength(1));
      await tabwarden.handleEvent(entriesEvent([2]));

      await tabwarden.handleEvent(eventMessage('tab-1', reconnectRequest(0)));
      await vi.waitFor(() => expect(args.filter(([method]) => method === 'followEntries')).toHaveLength(2));
      expect(args.filter(([method]) => method === 'followEntries').map(([, a]) => a)).toEqual([[0], [2]]);
    });

    it('R12: over a service worker a watching tab says so every 10 s; live entries are not held meanwhile, and a late cached one still goes out once', async () => {
      vi.useFakeTimers();
      try {
        let answerKeepAlive: (value: unknown) => void = () => undefined;
        const { link, calls } = scriptedLink(
          {
            hello: [async () => ({ protocol: 1, state: unverified })],
            setIdentityToken: [async () => ({ ok: true, value: claims })],
            followEntries: [
              async () => ({ ok: true, value: [] }),
              () => new Promise((resolve) => (answerKeepAlive = resolve)),
            ],
          },
          'service-worker',
        );
        const tabwarden = new Tabwarden(link, { graceMs: 30_000 });
        await tabwarden.connect();
        await tabwarden.setIdentityToken('token-of-alice');
        const heard: number[][] = [];
        tabwarden.addEventListener('entries', (event) => heard.push(event.detail.entries.map((e) => e.seq)));
        tabwarden.watchEntries(0);
        await vi.advanceTimersByTimeAsync(10_000);
        expect(calls.filter((method) => method === 'followEntries')).toHaveLength(2);

        await tabwarden.handleEvent(entriesEvent([2]));
        expect(heard).toEqual([[2]]);
        answerKeepAlive({ ok: true, value: [entry(1), entry(2)] });
        await vi.advanceTimersByTimeAsync(0);
        await tabwarden.handleEvent(entriesEvent([2, 3]));
        expect(heard).toEqual([[2], [1], [3]]);
      } finally {
        vi.useRealTimers();
      }
    });

    it('R12: a tab that never watches makes no follow call and dispatches no entries', async () => {
      const { link, calls } = scriptedLink({
        hello: [async () => ({ protocol: 1, state: unverified })],
        setIdentityToken: [async () => ({ ok: true, value: claims })],
      });
      const tabwarden = new Tabwarden(link, { graceMs: 30_000 });
      await tabwarden.connect();
      await tabwarden.setIdentityToken('token-of-alice');
      const heard: unknown[] = [];
      tabwarden.addEventListener('entries', (event) => heard.push(event.detail));
      await tabwarden.handleEvent(entriesEvent([1]));
      expect(heard).toEqual([]);
      expect(calls).not.toContain('followEntries');
    });
  });
});
