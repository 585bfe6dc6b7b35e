// The host end of the tab channel (src/core/tab-channel-host.ts), driven message by message as
// a worker entry drives it: the welcome (restore, reconcile), calls by id, events by ack.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TabwardenError } from '../../src/core/errors.ts';
import { PROTOCOL_VERSION, type HostMessage, type TabMessage } from '../../src/core/protocol.ts';
import type { SessionEngine } from '../../src/core/session-engine.ts';
import { TabChannelHost, type PostToTab } from '../../src/core/tab-channel-host.ts';
import { createBadTokenCorpus, type BadTokenCorpus } from '../fixtures/bad-token-corpus.ts';
import {
  createWorld as createWorldWith,
  unwrap,
  type Tab,
  type World,
  type WorldOptions,
} from '../helpers/world.ts';

let world: World;
let corpus: BadTokenCorpus;
// One set of keys for the file: making them is the slow part of a world.
beforeAll(async () => {
  corpus = await createBadTokenCorpus();
});
afterEach(() => world?.close());
const createWorld = (options: WorldOptions) => createWorldWith({ ...options, corpus });

const base = { protocol: PROTOCOL_VERSION, tabId: 'page-tab' };
const connect = (restore?: { identityToken: string; sessionVersion: number }): TabMessage =>
  restore ? { ...base, type: 'tabwarden:connect', restore } : { ...base, type: 'tabwarden:connect' };
const call = (id: string, method: string, ...args: unknown[]): TabMessage => ({
  ...base,
  type: 'tabwarden:call',
  id,
  method,
  args,
});

// The host's tab id of each page tab id, for auto-acks.
const ackTabs = new Map([
  ['page-tab', 'tab-a'],
  ['other-tab', 'tab-b'],
]);

/**
 * A tab's route back: every message the host posted to it, and a way to wait for one. With
 * `autoAck` the tab confirms each event at once, as a live page does.
 */
function route({ live = true, autoAck }: { live?: boolean; autoAck?: TabChannelHost } = {}) {
  const received: HostMessage[] = [];
  const waiting: Array<() => void> = [];
  const post: PostToTab = (message) => {
    received.push(message);
    if (autoAck && message.type === 'tabwarden:event') {
      const ack: TabMessage = { ...base, tabId: message.tabId, type: 'tabwarden:ack', id: message.id };
      queueMicrotask(() => void autoAck.receive(ackTabs.get(message.tabId)!, ack, post));
    }
    for (const check of waiting.splice(0)) check();
    return live;
  };
  const next = <T extends HostMessage['type']>(type: T, count = 1) =>
    new Promise<Extract<HostMessage, { type: T }>>((resolve) => {
      const check = () => {
        const found = received.filter((m) => m.type === type);
        if (found.length >= count) resolve(found[count - 1] as Extract<HostMessage, { type: T }>);
        else waiting.push(check);
      };
      check();
    });
  return { received, post, next };
}

/** A world whose tab 1 started a conversation, then its worker restarted: a new host (R10). */
async function restartedWithSession(): Promise<{ tab: Tab; token: string; host: TabChannelHost }> {
  world = await createWorld({ tabs: 1 });
  const [tab] = world.tabs as [Tab];
  const token = await world.corpus.mintGood('alice');
  await unwrap(tab.api.setIdentityToken(token));
  await unwrap(tab.api.startConversation());
  await world.restartWorker();
  return { tab, token, host: new TabChannelHost(() => Promise.resolve(world.engine), 'instance-2') };
}

describe('TabChannelHost', () => {
  it('R10: a connect that brings the tab’s token restores the tab before the call sent right after it', async () => {
    const { tab, token, host } = await restartedWithSession();
    const sessionVersion = (await tab.api.getState()).sessionVersion;
    const back = route();
    // Sent back to back, as the page does: the call must not overtake the restore.
    void host.receive('host-tab', connect({ identityToken: token, sessionVersion }), back.post);
    void host.receive('host-tab', call('1', 'sendMessage', 'hi', 'm-1'), back.post);
    const welcome = await back.next('tabwarden:welcome');
    expect(welcome).toMatchObject({
      instanceId: 'instance-2',
      restored: { ok: true },
      state: { verified: true },
    });
    expect(await back.next('tabwarden:reply')).toMatchObject({
      id: '1',
      result: { ok: true, value: { text: 'hi' } },
    });
    // Events aside (the outbox's first delivery tells every tab the server is reached, R12).
    const calls = back.received.filter((m) => m.type !== 'tabwarden:event');
    expect(calls.map((m) => m.type)).toEqual(['tabwarden:welcome', 'tabwarden:reply']);
    expect(back.received.filter((m) => m.type === 'tabwarden:event').map((m) => m.event)).toEqual([
      { type: 'connectivity', sessionVersion: expect.any(Number), online: true },
    ]);
  });

  it('R7/R10: a token brought for a session cleared since is refused in the welcome, with the clear’s reason', async () => {
    const { tab, token, host } = await restartedWithSession();
    const staleVersion = (await tab.api.getState()).sessionVersion;
    await unwrap(tab.api.clearSession(false));
    const back = route();
    await host.receive(
      'host-tab',
      connect({ identityToken: token, sessionVersion: staleVersion }),
      back.post,
    );
    const welcome = await back.next('tabwarden:welcome');
    expect(welcome.restored).toMatchObject({ ok: false, error: { code: 'ERR_SESSION_CLEARED' } });
    expect(welcome.state).toMatchObject({ verified: false, lastClearReason: 'logout' });
    expect(welcome.state.sessionVersion).toBeGreaterThan(staleVersion);
  });

  it('R10: a message from a tab this host never saw is answered "started", not served', async () => {
    const { host } = await restartedWithSession();
    const back = route();
    await host.receive('host-tab', call('1', 'clearSession', false), back.post);
    expect(back.received).toEqual([
      { type: 'tabwarden:started', protocol: PROTOCOL_VERSION, tabId: 'page-tab', instanceId: 'instance-2' },
    ]);
    expect(world.engine.sessionVersion).toBeGreaterThan(0);
    expect((await world.store.loadState()).session).toBeDefined();
  });

  it('R4/R10: a call re-sent with its id while it runs joins the run: one exchange, both answered', async () => {
    world = await createWorld({ tabs: 0 });
    const host = new TabChannelHost(() => Promise.resolve(world.engine), 'instance-1');
    const back = route();
    await host.receive('tab-1', connect(), back.post);
    await host.receive(
      'tab-1',
      call('1', 'setIdentityToken', await world.corpus.mintGood('alice')),
      back.post,
    );
    let release = () => {};
    world.server.gate = new Promise((resolve) => (release = resolve));
    const first = host.receive('tab-1', call('2', 'startConversation'), back.post);
    const again = host.receive('tab-1', call('2', 'startConversation'), back.post);
    release();
    await Promise.all([first, again]);
    const replies = back.received.filter((m) => m.type === 'tabwarden:reply' && m.id === '2');
    expect(replies).toHaveLength(2);
    expect(replies[0]).toEqual(replies[1]);
    expect(world.server.exchanges).toBe(1);
  });

  it('R7: an event goes with an id, and the engine’s clear waits for the tab’s ack of that id', async () => {
    world = await createWorld({ tabs: 0 });
    const host = new TabChannelHost(() => Promise.resolve(world.engine), 'instance-1');
    const [a, b] = [route({ autoAck: host }), route()];
    await host.receive('tab-a', connect(), a.post);
    await host.receive('tab-b', { ...connect(), tabId: 'other-tab' }, b.post);
    let cleared = false;
    const clearing = host
      .receive('tab-a', call('1', 'clearSession', false), a.post)
      .then(() => (cleared = true));
    const event = await b.next('tabwarden:event');
    expect(event).toMatchObject({ tabId: 'other-tab', event: { type: 'session-cleared', reason: 'logout' } });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(cleared).toBe(false);
    await host.receive(
      'tab-b',
      { protocol: PROTOCOL_VERSION, tabId: 'other-tab', type: 'tabwarden:ack', id: event.id },
      b.post,
    );
    await clearing;
    expect(cleared).toBe(true);
  });

  it('R7: a tab its worker knows is gone is not waited for, and the engine forgets it', async () => {
    world = await createWorld({ tabs: 0 });
    const host = new TabChannelHost(() => Promise.resolve(world.engine), 'instance-1');
    const [live, gone] = [route({ autoAck: host }), route({ live: false })];
    await host.receive('tab-a', connect(), live.post);
    await host.receive('tab-b', { ...connect(), tabId: 'other-tab' }, gone.post);
    const clockBefore = world.clock.now();
    // The world's clock is manual and nothing here moves it: a clear that waited for the gone
    // tab's ack would wait for its 1 s ack timeout for ever. The 5 s of real time only turn such
    // a hang into a failure; the clear must finish with the clock where it was.
    let hang: ReturnType<typeof setTimeout> | undefined;
    const hung = new Promise<never>((_, reject) => {
      hang = setTimeout(() => reject(new Error('the clear waited for a tab known to be gone')), 5_000);
    });
    await Promise.race([host.receive('tab-a', call('1', 'clearSession', false), live.post), hung]).finally(
      () => clearTimeout(hang),
    );
    expect(world.clock.now()).toBe(clockBefore);
    expect(gone.received.filter((m) => m.type === 'tabwarden:event')).toHaveLength(1);
    expect(live.received.filter((m) => m.type === 'tabwarden:reply')).toMatchObject([
      { id: '1', result: { ok: true } },
    ]);
    expect(() => world.engine.getState('tab-b')).toThrow(/Unknown tab/);
  });

  it('R13: a method outside the tab API is not called', async () => {
    world = await createWorld({ tabs: 0 });
    const host = new TabChannelHost(() => Promise.resolve(world.engine), 'instance-1');
    const back = route();
    await host.receive('tab-1', connect(), back.post);
    for (const method of ['subscribe', '__proto__', 'constructor', 'toString']) {
      await host.receive('tab-1', call(method, method), back.post);
    }
    expect(back.received.map((m) => m.type)).toEqual(['tabwarden:welcome']);
  });

  it('R10: while the engine cannot start (an upgrade blocked), every call fails at once with the coded reason; once it started, the next call works', async () => {
    world = await createWorld({ tabs: 0 });
    const blocked = new TabwardenError('ERR_STORAGE', 'upgrade blocked by another tab');
    let started!: (engine: SessionEngine) => void;
    const host = new TabChannelHost(
      (unavailable) =>
        new Promise<SessionEngine>((resolve) => {
          started = resolve;
          unavailable(blocked);
        }),
      'instance-1',
    );
    const back = route();
    await host.receive('tab-1', connect(), back.post);
    expect(await back.next('tabwarden:welcome')).toMatchObject({ state: { verified: false } });
    await host.receive('tab-1', call('1', 'hello'), back.post);
    expect(await back.next('tabwarden:reply')).toMatchObject({ result: { protocol: PROTOCOL_VERSION } });
    const token = await world.corpus.mintGood('alice');
    await host.receive('tab-1', call('2', 'setIdentityToken', token), back.post);
    expect(await back.next('tabwarden:reply', 2)).toMatchObject({
      id: '2',
      result: { ok: false, error: { code: 'ERR_STORAGE', message: 'upgrade blocked by another tab' } },
    });

    started(world.engine);
    // The host never registered the tab: it asks it to re-connect, which then works.
    await host.receive('tab-1', call('3', 'setIdentityToken', token), back.post);
    expect(await back.next('tabwarden:started')).toMatchObject({
      tabId: 'page-tab',
      instanceId: 'instance-1',
    });
    await host.receive('tab-1', connect(), back.post);
    await host.receive('tab-1', call('3', 'setIdentityToken', token), back.post);
    expect(await back.next('tabwarden:reply', 3)).toMatchObject({ id: '3', result: { ok: true } });
  });

  it('R10: a start that fails answers with its coded error and is tried again by the next message', async () => {
    world = await createWorld({ tabs: 0 });
    let starts = 0;
    const host = new TabChannelHost(async () => {
      starts += 1;
      if (starts === 1) throw new TabwardenError('ERR_STORAGE', 'first start failed');
      return world.engine;
    }, 'instance-1');
    const back = route();
    await host.receive('tab-1', call('1', 'startConversation'), back.post);
    expect(back.received).toEqual([
      {
        type: 'tabwarden:reply',
        protocol: PROTOCOL_VERSION,
        tabId: 'page-tab',
        id: '1',
        result: { ok: false, error: { code: 'ERR_STORAGE', message: 'first start failed' } },
      },
    ]);
    await host.receive('tab-1', connect(), back.post);
    expect(await back.next('tabwarden:welcome')).toMatchObject({ instanceId: 'instance-1' });
    await host.receive('tab-1', call('2', 'startConversation'), back.post);
    expect(await back.next('tabwarden:reply', 2)).toMatchObject({
      id: '2',
      result: { ok: false, error: { code: 'ERR_NOT_VERIFIED' } },
    });
    expect(starts).toBe(2);
  });
});
