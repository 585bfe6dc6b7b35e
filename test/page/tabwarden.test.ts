// The page client over a transport the test scripts (src/page/tabwarden.ts): how a tab
// reconciles with a host that restarted, whatever its own timers do meanwhile.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PROTOCOL_VERSION, type TabMessage, type TabState } from '../../src/core/protocol.ts';
import type { ChannelTransport } from '../../src/page/tab-channel.ts';
import { Tabwarden } from '../../src/page/tabwarden.ts';

const claims = { iss: 'https://idp.test', sub: 'alice', exp: 2_000_000_000 };

/**
 * A transport whose host is the test: it welcomes every connect with `welcome()` and answers
 * every call from `answers`, by method; it records what the tab sent.
 */
function scriptedHost(answers: Record<string, unknown>) {
  const sent: TabMessage[] = [];
  let receive: (data: unknown) => void = () => {};
  let welcome = (): Record<string, unknown> => ({
    instanceId: 'w-1',
    state: { sessionVersion: 1, verified: false },
  });
  const deliver = (message: Record<string, unknown>) =>
    queueMicrotask(() => receive({ protocol: PROTOCOL_VERSION, tabId: 'tab-1', ...message }));
  const transport: ChannelTransport = {
    kind: 'shared-worker',
    announcesRestart: false,
    open: (r) => (receive = r),
    post: (message) => {
      sent.push(message);
      if (message.type === 'tabwarden:connect') deliver({ type: 'tabwarden:welcome', ...welcome() });
      if (message.type === 'tabwarden:call') {
        deliver({ type: 'tabwarden:reply', id: message.id, result: answers[message.method] });
      }
    },
    close: () => undefined,
  };
  return {
    transport,
    sent,
    setWelcome: (next: () => Record<string, unknown>) => (welcome = next),
    announce: (instanceId: string) => deliver({ type: 'tabwarden:started', tabId: '*', instanceId }),
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
    const tabwarden = new Tabwarden(host.transport, 'tab-1', {
      serverUrl: 'http://127.0.0.1:1',
      graceMs: 30_000,
    });
    await tabwarden.connect();
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

  it('R10: a restarted host that took the token back keeps the tab verified, with nothing dispatched', async () => {
    const host = scriptedHost({
      hello: { protocol: PROTOCOL_VERSION, state: { sessionVersion: 1, verified: false } },
      setIdentityToken: { ok: true, value: claims },
    });
    const tabwarden = new Tabwarden(host.transport, 'tab-1', {
      serverUrl: 'http://127.0.0.1:1',
      graceMs: 30_000,
    });
    await tabwarden.connect();
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
});
