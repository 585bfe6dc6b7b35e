// The page client over a transport the test scripts (src/page/tabwarden.ts): how a tab
// reconciles with a host that restarted, whatever its own timers do meanwhile.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  PROTOCOL_VERSION,
  type ConversationEntry,
  type TabMessage,
  type TabState,
  type WorkerEvent,
} from '../../src/core/protocol.ts';
import type { ChannelTransport } from '../../src/page/tab-channel.ts';
import { openTabwarden, Tabwarden } from '../../src/page/tabwarden.ts';

const claims = { iss: 'https://idp.test', sub: 'alice', exp: 2_000_000_000 };

/**
 * A transport whose host is the test: it welcomes every connect with `welcome()` and answers
 * every call from `answers`, by method (a value, or a function of the call's arguments that may
 * return a promise); it records what the tab sent.
 */
function scriptedHost(answers: Record<string, unknown>, kind: ChannelTransport['kind'] = 'shared-worker') {
  const sent: TabMessage[] = [];
  let receive: (data: unknown) => void = () => {};
  let welcome = (): Record<string, unknown> => ({
    instanceId: 'w-1',
    state: { sessionVersion: 1, verified: false },
  });
  let events = 0;
  const deliver = (message: Record<string, unknown>) =>
    queueMicrotask(() => receive({ protocol: PROTOCOL_VERSION, tabId: 'tab-1', ...message }));
  const transport: ChannelTransport = {
    kind,
    announcesRestart: false,
    // As the service-worker transport: its host stops when idle, so a following tab keeps it up.
    ...(kind === 'service-worker' ? { followKeepAliveMs: 10_000 } : {}),
    open: (r) => (receive = r),
    post: (message) => {
      sent.push(message);
      if (message.type === 'tabwarden:connect') deliver({ type: 'tabwarden:welcome', ...welcome() });
      if (message.type === 'tabwarden:call') {
        const answer = answers[message.method];
        void Promise.resolve(typeof answer === 'function' ? answer(message.args) : answer).then((result) =>
          deliver({ type: 'tabwarden:reply', id: message.id, result }),
        );
      }
    },
    close: () => undefined,
  };
  return {
    transport,
    sent,
    /** The arguments of every call of `method`, in order. */
    argsOf: (method: string) =>
      sent.flatMap((m) => (m.type === 'tabwarden:call' && m.method === method ? [m.args] : [])),
    setWelcome: (next: () => Record<string, unknown>) => (welcome = next),
    announce: (instanceId: string) => deliver({ type: 'tabwarden:started', tabId: '*', instanceId }),
    event: (event: WorkerEvent) => deliver({ type: 'tabwarden:event', id: `e-${++events}`, event }),
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('Tabwarden', () => {
  beforeEach(() => vi.stubGlobal('addEventListener', () => undefined));
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it('R10/R7: a tab whose page timers all fired at once (a clock jump) still learns from the restarted host of a clear it missed', async () => {
    const unverified: TabState = { sessionVersion: 1, verified: false };
    const host = scriptedHost({
      hello: { protocol: PROTOCOL_VERSION, state: unverified },
      setIdentityToken: { ok: true, value: claims },
    });
    const tabwarden = await openTabwarden(host.transport, 'tab-1', {
      graceMs: 30_000,
    });
    await tabwarden.setIdentityToken('token-of-alice');
    const cleared: unknown[] = [];
    tabwarden.addEventListener('session-cleared', (event) => cleared.push(event.detail));

    // The host restarted and cleared the session at the deadline before this tab re-connected;
    // meanwhile the page's clock jumps far past every call limit.
    vi.useFakeTimers();
    host.setWelcome(() => ({
      instanceId: 'w-2',
      state: { sessionVersion: 2, verified: false, lastClearReason: 'identity-token-timeout' },
      restored: { ok: false, error: { code: 'ERR_SESSION_CLEARED', message: 'cleared' } },
    }));
    host.announce('w-2');
    await vi.advanceTimersByTimeAsync(120_000);

    expect(cleared).toEqual([{ reason: 'identity-token-timeout' }]);
    expect(tabwarden.state).toMatchObject({ sessionVersion: 2, verified: false });
    const connects = host.sent.filter((m) => m.type === 'tabwarden:connect');
    expect(connects.at(-1)).toMatchObject({
      restore: { identityToken: 'token-of-alice', sessionVersion: 1 },
    });
  });

  it('R1: openTabwarden completes the handshake; the constructor, connect and handleEvent are no part of the public class', async () => {
    const host = scriptedHost({
      hello: { protocol: PROTOCOL_VERSION, state: { sessionVersion: 1, verified: false } },
    });
    const tabwarden = await openTabwarden(host.transport, 'tab-1', { graceMs: 30_000 });
    expect(tabwarden.ready).toBe(true);
    expect(host.argsOf('hello')).toHaveLength(1);
    expect('connect' in tabwarden).toBe(false);
    expect('handleEvent' in tabwarden).toBe(false);
    // @ts-expect-error not in the typed surface either
    void tabwarden.connect;
    // @ts-expect-error not in the typed surface either
    void tabwarden.handleEvent;
    // @ts-expect-error the constructor is private: a client is made and connected in one step
    void (() => new Tabwarden(host.transport, 'tab-2', { graceMs: 30_000 }));
  });

  it('R10: a restarted host that took the token back keeps the tab verified, with nothing dispatched', async () => {
    const host = scriptedHost({
      hello: { protocol: PROTOCOL_VERSION, state: { sessionVersion: 1, verified: false } },
      setIdentityToken: { ok: true, value: claims },
    });
    const tabwarden = await openTabwarden(host.transport, 'tab-1', {
      graceMs: 30_000,
    });
    await tabwarden.setIdentityToken('token-of-alice');
    // The first ready, a task after connect.
    await settle();
    const dispatched: string[] = [];
    for (const type of ['session-cleared', 'verified', 'ready']) {
      tabwarden.addEventListener(type, () => dispatched.push(type));
    }
    host.setWelcome(() => ({
      instanceId: 'w-2',
      state: { sessionVersion: 1, verified: true },
      restored: { ok: true, value: claims },
    }));
    host.announce('w-2');
    await settle();
    await settle();
    expect(tabwarden.state).toMatchObject({ verified: true });
    expect(dispatched).toEqual([]);
  });
  describe('watchEntries', () => {
    const entry = (seq: number): ConversationEntry => ({
      conversationId: 'c',
      seq,
      role: seq % 2 ? 'user' : 'agent',
      text: `entry ${seq}`,
      createdAt: seq,
    });
    const entries = (seqs: number[]): WorkerEvent => ({
      type: 'entries',
      sessionVersion: 1,
      conversationId: 'c',
      entries: seqs.map(entry),
    });
    const verifiedTab = async (host: ReturnType<typeof scriptedHost>) => {
      const tabwarden = await openTabwarden(host.transport, 'tab-1', { graceMs: 30_000 });
      await tabwarden.setIdentityToken('token-of-alice');
      const heard: number[][] = [];
      tabwarden.addEventListener('entries', (event) => heard.push(event.detail.entries.map((e) => e.seq)));
      return { tabwarden, heard };
    };
    const basics = {
      hello: { protocol: PROTOCOL_VERSION, state: { sessionVersion: 1, verified: false } },
      setIdentityToken: { ok: true, value: claims },
    };

    it('R12: live entries that arrive while the follow call is in flight come after the cached ones, each once, in order', async () => {
      let answerFollow: (value: unknown) => void = () => undefined;
      const host = scriptedHost({
        ...basics,
        followEntries: () => new Promise((resolve) => (answerFollow = resolve)),
      });
      const { tabwarden, heard } = await verifiedTab(host);

      tabwarden.watchEntries(0);
      await vi.waitFor(() => expect(host.argsOf('followEntries')).toHaveLength(1));
      host.event(entries([2, 3]));
      await settle();
      expect(heard).toEqual([]);
      answerFollow({ ok: true, value: [entry(1), entry(2)] });
      await vi.waitFor(() => expect(heard).toEqual([[1, 2], [3]]));
      host.event(entries([3, 4]));
      await vi.waitFor(() => expect(heard).toEqual([[1, 2], [3], [4]]));
    });

    it('R10/R12: after a host restart the tab follows again, from the last entry it dispatched', async () => {
      const host = scriptedHost({
        ...basics,
        followEntries: (args: unknown[]) => ({ ok: true, value: args[0] === 0 ? [entry(1)] : [] }),
      });
      const { tabwarden, heard } = await verifiedTab(host);
      tabwarden.watchEntries(0);
      host.event(entries([2]));
      await vi.waitFor(() => expect(heard.flat()).toEqual([1, 2]));

      host.setWelcome(() => ({
        instanceId: 'w-2',
        state: { sessionVersion: 1, verified: true },
        restored: { ok: true, value: claims },
      }));
      host.announce('w-2');
      await vi.waitFor(() => expect(host.argsOf('followEntries')).toEqual([[0], [2]]));
    });

    it('R12: over a service worker a watching tab says so every 10 s; live entries are not held meanwhile, and a late cached one still goes out once', async () => {
      let follows = 0;
      let answerKeepAlive: (value: unknown) => void = () => undefined;
      const host = scriptedHost(
        {
          ...basics,
          followEntries: () =>
            ++follows === 1 ? { ok: true, value: [] } : new Promise((resolve) => (answerKeepAlive = resolve)),
        },
        'service-worker',
      );
      const { tabwarden, heard } = await verifiedTab(host);
      vi.useFakeTimers();
      tabwarden.watchEntries(0);
      await vi.advanceTimersByTimeAsync(10_000);
      expect(host.argsOf('followEntries')).toHaveLength(2);

      host.event(entries([2]));
      await vi.advanceTimersByTimeAsync(0);
      expect(heard).toEqual([[2]]);
      answerKeepAlive({ ok: true, value: [entry(1), entry(2)] });
      await vi.advanceTimersByTimeAsync(0);
      host.event(entries([2, 3]));
      await vi.advanceTimersByTimeAsync(0);
      expect(heard).toEqual([[2], [1], [3]]);
    });

    it('R12: over a transport whose host lives as long as its tabs, a watching tab sends no keep-alive', async () => {
      const host = scriptedHost({ ...basics, followEntries: { ok: true, value: [] } }, 'shared-worker');
      const { tabwarden } = await verifiedTab(host);
      vi.useFakeTimers();
      tabwarden.watchEntries(0);
      await vi.advanceTimersByTimeAsync(60_000);
      expect(host.argsOf('followEntries')).toEqual([[0]]);
    });

    it('R12: a tab that never watches makes no follow call and dispatches no entries', async () => {
      const host = scriptedHost(basics);
      const { heard } = await verifiedTab(host);
      host.event(entries([1]));
      await settle();
      await settle();
      expect(heard).toEqual([]);
      expect(host.argsOf('followEntries')).toEqual([]);
    });
  });
});
