// The page end of the tab channel (src/page/tab-channel.ts), over a transport the test drives:
// a call waits for a welcome, has a deadline and an id; an event is acked by its id; a host's
// death (its instance lock granted, or a new host's start) re-connects with the tab's token and
// re-sends what is unanswered, with the same ids.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TabwardenError } from '../../src/core/errors.ts';
import { PROTOCOL_VERSION, type TabMessage, type WorkerEvent } from '../../src/core/protocol.ts';
import {
  TabChannel,
  type ChannelClient,
  type ChannelTransport,
  type Welcome,
} from '../../src/page/tab-channel.ts';
import { ManualClock } from '../../src/testing/manual-clock.ts';

const TAB = 'tab-1';
const state = { sessionVersion: 3, verified: true };

/** A transport whose host is the test: what the tab posted, and a way to answer. */
function fakeTransport(announcesRestart = true) {
  const posted: TabMessage[] = [];
  let receive: (data: unknown) => void = () => {};
  let fail: (error: TabwardenError) => void = () => {};
  const transport: ChannelTransport = {
    kind: 'service-worker',
    announcesRestart,
    open: (r, f) => ((receive = r), (fail = f)),
    post: (message) => void posted.push(message),
    close: () => {},
  };
  const host = {
    posted,
    /** Delivers a message from the host, then lets the channel react. */
    async send(message: Record<string, unknown>) {
      receive({ protocol: PROTOCOL_VERSION, tabId: TAB, ...message });
      await new Promise((resolve) => setTimeout(resolve, 0));
    },
    welcome: (instanceId: string, extra: Record<string, unknown> = {}) =>
      host.send({ type: 'tabwarden:welcome', instanceId, state, ...extra }),
    reply: (id: string, result: unknown) => host.send({ type: 'tabwarden:reply', id, result }),
    calls: () => posted.filter((m) => m.type === 'tabwarden:call'),
    connects: () => posted.filter((m) => m.type === 'tabwarden:connect'),
    fail: (error: TabwardenError) => fail(error),
  };
  return { transport, host };
}

function fakeClient(token?: string) {
  const welcomes: Welcome[] = [];
  const events: WorkerEvent[] = [];
  let releaseEvent = () => {};
  const client: ChannelClient = {
    credential: () => (token ? { identityToken: token, sessionVersion: 3 } : undefined),
    welcomed: (welcome) => void welcomes.push(welcome),
    handleEvent: (event) => {
      events.push(event);
      return new Promise<void>((resolve) => (releaseEvent = resolve));
    },
  };
  return { client, welcomes, events, releaseEvent: () => releaseEvent() };
}

/** A Web Lock manager whose locks the test grants, as the browser does when a host instance ends. */
function fakeLocks() {
  const requests = new Map<string, () => unknown>();
  vi.stubGlobal('navigator', {
    locks: { request: (name: string, callback: () => unknown) => void requests.set(name, callback) },
  });
  return {
    requested: () => [...requests.keys()],
    /** The instance ended: its lock goes to the waiting tab. */
    async end(instanceId: string) {
      requests.get(`tabwarden:host:${instanceId}`)?.();
      await new Promise((resolve) => setTimeout(resolve, 0));
    },
  };
}

afterEach(() => vi.unstubAllGlobals());

describe('TabChannel', () => {
  it('R10: a first call connects with the in-memory token, and is sent once the host welcomed the tab', async () => {
    const { transport, host } = fakeTransport();
    const { client, welcomes } = fakeClient('a.b.c');
    const channel = new TabChannel(transport, TAB, client);
    const answer = channel.call('getState', [], 1_000);
    expect(host.posted).toEqual([
      {
        type: 'tabwarden:connect',
        protocol: PROTOCOL_VERSION,
        tabId: TAB,
        restore: { identityToken: 'a.b.c', sessionVersion: 3 },
      },
    ]);
    await host.welcome('w-1');
    expect(welcomes).toHaveLength(1);
    const [sent] = host.calls();
    expect(sent).toMatchObject({ method: 'getState', args: [] });
    await host.reply((sent as { id: string }).id, state);
    await expect(answer).resolves.toEqual(state);
  });

  it('R10: a call unanswered past its deadline rejects ERR_TIMEOUT, not before, and a late reply changes nothing', async () => {
    const { transport, host } = fakeTransport();
    const clock = new ManualClock(0);
    const channel = new TabChannel(transport, TAB, fakeClient().client, clock);
    const answer = channel.call('getState', [], 30).then(
      () => 'answered',
      (error: unknown) => error,
    );
    await host.welcome('w-1');
    await clock.advance(29);
    expect(await Promise.race([answer, Promise.resolve('pending')])).toBe('pending');
    await clock.advance(1);
    expect(await answer).toMatchObject({ code: 'ERR_TIMEOUT' });
    expect(clock.pendingTimers).toBe(0);
    await host.reply((host.calls()[0] as { id: string }).id, state);
  });

  it('R10: without Web Locks, a call that ran out its deadline makes the next call re-connect', async () => {
    vi.stubGlobal('navigator', {});
    const { transport, host } = fakeTransport(false);
    const clock = new ManualClock(0);
    const channel = new TabChannel(transport, TAB, fakeClient().client, clock);
    // Its rejection is awaited from the start: the clock fires it inside advance().
    const lost = expect(channel.call('getState', [], 30)).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    await host.welcome('w-1');
    await clock.advance(30);
    await lost;
    void channel.call('getState', [], 1_000).catch(() => undefined);
    expect(host.connects()).toHaveLength(2);
  });

  it('R10: a host that (re)started: the tab re-connects, reconciles, then re-sends what is unanswered with the same ids', async () => {
    const { transport, host } = fakeTransport();
    const { client, welcomes } = fakeClient('a.b.c');
    const channel = new TabChannel(transport, TAB, client);
    const answered = channel.call('getState', [], 1_000);
    const unanswered = channel.call('sendMessage', ['hi', 'm-1'], 1_000);
    await host.welcome('w-1');
    const [first, second] = host.calls() as Array<TabMessage & { id: string }>;
    await host.reply(first!.id, state);
    await expect(answered).resolves.toEqual(state);

    await host.send({ type: 'tabwarden:started', tabId: '*', instanceId: 'w-2' });
    expect(host.connects()).toHaveLength(2);
    expect(host.calls()).toHaveLength(2);
    await host.welcome('w-2', { restored: { ok: true, value: { sub: 's', iss: 'i', exp: 1 } } });
    expect(welcomes.map((w) => w.instanceId)).toEqual(['w-1', 'w-2']);
    const resent = host.calls().slice(2);
    expect(resent).toEqual([second]);
    await host.reply(second!.id, { ok: true, value: 'sent' });
    await expect(unanswered).resolves.toEqual({ ok: true, value: 'sent' });
  });

  it('R10: a start announced by the very host the tab is connected to changes nothing', async () => {
    const { transport, host } = fakeTransport();
    const channel = new TabChannel(transport, TAB, fakeClient().client);
    void channel.call('getState', [], 1_000).catch(() => undefined);
    await host.welcome('w-1');
    await host.send({ type: 'tabwarden:started', tabId: '*', instanceId: 'w-1' });
    expect(host.connects()).toHaveLength(1);
    expect(host.calls()).toHaveLength(1);
  });

  it('R10: a host that does not know the tab says "started" to it alone: the tab re-connects even to that instance', async () => {
    const { transport, host } = fakeTransport();
    const channel = new TabChannel(transport, TAB, fakeClient().client);
    void channel.call('getState', [], 1_000).catch(() => undefined);
    await host.welcome('w-1');
    await host.send({ type: 'tabwarden:started', tabId: TAB, instanceId: 'w-1' });
    expect(host.connects()).toHaveLength(2);
  });

  it('R10: the instance lock granted (the host ended) with a call in flight re-connects at once', async () => {
    const locks = fakeLocks();
    const { transport, host } = fakeTransport();
    const channel = new TabChannel(transport, TAB, fakeClient('a.b.c').client);
    void channel.call('startConversation', [], 1_000).catch(() => undefined);
    await host.welcome('w-1');
    expect(locks.requested()).toEqual(['tabwarden:host:w-1']);
    await locks.end('w-1');
    expect(host.connects()).toHaveLength(2);
    await host.welcome('w-2');
    expect(host.calls()).toHaveLength(2);
    expect(locks.requested()).toContain('tabwarden:host:w-2');
  });

  it('R10: the instance lock granted while idle waits for the next host to announce itself, unless the transport has none that does', async () => {
    for (const announcesRestart of [true, false]) {
      const locks = fakeLocks();
      const { transport, host } = fakeTransport(announcesRestart);
      const channel = new TabChannel(transport, TAB, fakeClient().client);
      const first = channel.call('getState', [], 1_000);
      await host.welcome('w-1');
      await host.reply((host.calls()[0] as { id: string }).id, state);
      await first;
      await locks.end('w-1');
      // A service worker is not woken for nothing; a SharedWorker is started anew at once.
      expect(host.connects(), `announcesRestart: ${announcesRestart}`).toHaveLength(announcesRestart ? 1 : 2);
    }
  });

  it('R7: an event is handed to the client and acked with its id once the client is done', async () => {
    const { transport, host } = fakeTransport();
    const { client, events, releaseEvent } = fakeClient();
    new TabChannel(transport, TAB, client);
    const event: WorkerEvent = { type: 'session-cleared', sessionVersion: 4, reason: 'logout' };
    await host.send({ type: 'tabwarden:event', id: '7', event });
    expect(events).toEqual([event]);
    expect(host.posted.filter((m) => m.type === 'tabwarden:ack')).toEqual([]);
    releaseEvent();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(host.posted.filter((m) => m.type === 'tabwarden:ack')).toEqual([
      { type: 'tabwarden:ack', protocol: PROTOCOL_VERSION, tabId: TAB, id: '7' },
    ]);
  });

  it('R13: messages for another tab, or of the wrong shape, are ignored', async () => {
    const { transport, host } = fakeTransport();
    const { client, events, welcomes } = fakeClient();
    new TabChannel(transport, TAB, client);
    await host.send({ type: 'tabwarden:welcome', instanceId: 'w-1', state, tabId: 'tab-2' });
    await host.send({
      type: 'tabwarden:event',
      id: '1',
      event: { type: 'session-cleared', sessionVersion: 1 },
    });
    await host.send({ type: 'tabwarden:welcome', instanceId: 'w-1', state, protocol: PROTOCOL_VERSION + 1 });
    expect(welcomes).toEqual([]);
    expect(events).toEqual([]);
  });

  it('R11: a host that cannot start fails every call in flight and later with its coded error', async () => {
    const { transport, host } = fakeTransport();
    const channel = new TabChannel(transport, TAB, fakeClient().client);
    const inFlight = channel.call('getState', [], 1_000);
    const unavailable = new TabwardenError('ERR_WORKER_UNAVAILABLE', 'The script answered HTTP 404');
    host.fail(unavailable);
    await expect(inFlight).rejects.toBe(unavailable);
    await expect(channel.call('getState', [], 1_000)).rejects.toBe(unavailable);
  });
});
