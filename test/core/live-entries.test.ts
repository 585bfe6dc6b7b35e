// R12's live entries in the engine: one server stream per worker however many tabs follow,
// entries cached, then sent only to the verified tabs that follow; resumed after a restart from
// the last delivered entry; paused, never a grace window, when both tokens expired (R6).
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ConversationEntry } from '../../src/core/protocol.ts';
import { createBadTokenCorpus, type BadTokenCorpus } from '../fixtures/bad-token-corpus.ts';
import { codeOf, createWorld, verifyTabs, unwrap, type Tab, type World } from '../helpers/world.ts';

let corpus: BadTokenCorpus;
let world: World;
beforeAll(async () => {
  corpus = await createBadTokenCorpus();
});
afterEach(() => world?.close());

async function setup(options: Parameters<typeof createWorld>[0] = {}): Promise<World> {
  world = await createWorld({ corpus, ...options });
  return world;
}

const verify = (tabs: Tab[], sub?: string, seconds?: number) => verifyTabs(world, tabs, sub, seconds);

/** Verifies `tab`, starts the session and follows it; resolves the conversation once its one stream is open. */
async function followAlone(tab: Tab): Promise<string> {
  await verify([tab]);
  const { conversationId } = await unwrap(tab.api.startConversation());
  await unwrap(tab.api.followEntries(0));
  await expect.poll(() => world.server.openStreams, { timeout: 2_000, message: 'one stream open' }).toBe(1);
  return conversationId;
}

const texts = (entries: readonly ConversationEntry[]) => entries.map((entry) => entry.text);
const entriesSeen = (tab: Tab) => tab.eventsOf('entries').flatMap((event) => event.entries);

describe('live entries (R12)', () => {
  it('R12: one stream however many tabs follow; entries are cached and sent only to the verified tabs that follow', async () => {
    const [a, b, c, d] = (await setup({ tabs: 4 })).tabs as [Tab, Tab, Tab, Tab];
    await verify([a, b, d]);
    const { conversationId } = await unwrap(a.api.startConversation());
    expect(await unwrap(a.api.followEntries(0))).toEqual([]);
    expect(await unwrap(b.api.followEntries(0))).toEqual([]);
    expect(await codeOf(c.api.followEntries(0))).toBe('ERR_NOT_VERIFIED');
    await expect.poll(() => world.server.openStreams, { timeout: 2_000, message: 'one stream open' }).toBe(1);

    world.server.agentSays(conversationId, 'Hello from the agent');
    await a.waitForEvents('entries');
    await b.waitForEvents('entries');
    expect(texts(entriesSeen(a))).toEqual(['Hello from the agent']);
    expect(texts(entriesSeen(b))).toEqual(['Hello from the agent']);
    // c is not verified, d does not follow: neither pays for the stream.
    expect(c.eventsOf('entries')).toEqual([]);
    expect(d.eventsOf('entries')).toEqual([]);
    expect(texts(await world.store.listEntries(conversationId, 0))).toEqual(['Hello from the agent']);
    expect(world.server.streamsOpened).toHaveLength(1);
    // A tab that follows later gets the cached entries in the answer.
    expect(texts(await unwrap(d.api.followEntries(0)))).toEqual(['Hello from the agent']);
    expect(world.server.streamsOpened).toHaveLength(1);
  });

  it('R12: the stream closes when the last tab stops following or goes away', async () => {
    const [a, b] = (await setup({ tabs: 2 })).tabs as [Tab, Tab];
    await verify([a, b]);
    await unwrap(a.api.startConversation());
    await unwrap(a.api.followEntries(0));
    await unwrap(b.api.followEntries(0));
    await expect.poll(() => world.server.openStreams, { timeout: 2_000, message: 'one stream open' }).toBe(1);
    await unwrap(a.api.followEntries(false));
    expect(world.server.openStreams).toBe(1);
    await b.api.disconnect();
    await expect.poll(() => world.server.openStreams, { timeout: 2_000, message: 'no stream open' }).toBe(0);
  });

  it('R12: after a network cut the stream resumes after the last entry: nothing lost, nothing twice', async () => {
    const [a] = (await setup({ tabs: 1 })).tabs as [Tab];
    const conversationId = await followAlone(a);
    world.server.agentSays(conversationId, 'one');
    await a.waitForEvents('entries', 1);
    world.server.cutStreams();
    world.server.agentSays(conversationId, 'two');
    // The reconnect waits out a pause on the engine's clock: move it until the entry arrived.
    const deadline = Date.now() + 2_000;
    while (a.eventsOf('entries').length < 2 && Date.now() < deadline) {
      await world.clock.advance(500);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(texts(entriesSeen(a))).toEqual(['one', 'two']);
    expect(world.server.streamsOpened.map((open) => open.afterSeq)).toEqual([0, 1]);
  });

  it('R12: an entry read while the last one is still being cached reaches the tabs at once; positions are stored in order', async () => {
    let openCache = () => {};
    const cacheOpen = new Promise<void>((resolve) => (openCache = resolve));
    const positions: number[] = [];
    const [a] = (
      await setup({
        tabs: 1,
        wrapStore: (store) => ({
          ...store,
          // The first live entry's write waits, as IndexedDB does when the browser is busy.
          putEntries: async (entries) => {
            if (entries[0]?.seq === 1) await cacheOpen;
            return store.putEntries(entries);
          },
          saveSession: (record) => {
            if (record.streamSeq !== undefined) positions.push(record.streamSeq);
            return store.saveSession(record);
          },
        }),
      })
    ).tabs as [Tab];
    const conversationId = await followAlone(a);
    world.server.agentSays(conversationId, 'one');
    await a.waitForEvents('entries', 1);
    world.server.agentSays(conversationId, 'two');
    await a.waitForEvents('entries', 2);
    expect(texts(entriesSeen(a))).toEqual(['one', 'two']);
    // Neither is cached yet: the second's write waits behind the first's, and so does its position.
    expect(positions).toEqual([]);
    // A tab that follows meanwhile still gets both, from memory.
    expect(texts(await unwrap(a.api.followEntries(0)))).toEqual(['one', 'two']);

    openCache();
    await world.engine.whenIdle();
    expect(texts(await world.store.listEntries(conversationId, 0))).toEqual(['one', 'two']);
    expect(positions).toEqual([1, 2]);
  });

  it('R10: a restarted worker resumes the stream after the last entry it delivered (Last-Event-ID)', async () => {
    const [a] = (await setup({ tabs: 1 })).tabs as [Tab];
    const token = await verify([a]);
    const { conversationId } = await unwrap(a.api.startConversation());
    await unwrap(a.api.followEntries(0));
    await expect.poll(() => world.server.openStreams, { timeout: 2_000, message: 'one stream open' }).toBe(1);
    world.server.agentSays(conversationId, 'before the stop');
    await a.waitForEvents('entries', 1);
    await world.engine.whenIdle();

    world.stopWorker();
    world.server.cutStreams();
    world.server.agentSays(conversationId, 'while stopped');
    await world.restartWorker();
    await unwrap(a.api.restoreIdentityToken(token, (await a.api.getState()).sessionVersion));
    expect(texts(await unwrap(a.api.followEntries(1)))).toEqual([]);
    await a.waitForEvents('entries', 2);
    expect(texts(entriesSeen(a))).toEqual(['before the stop', 'while stopped']);
    expect(world.server.streamsOpened.map((open) => open.afterSeq)).toEqual([0, 1]);
  });

  it('R6: following with both tokens expired opens no grace window; a new token in any tab resumes the stream', async () => {
    const [a, b] = (await setup({ tabs: 2, accessLifetimeMs: 30_000 })).tabs as [Tab, Tab];
    await verify([a, b], 'alice', 60);
    await unwrap(a.api.startConversation());
    await world.clock.advance(2 * 60_000);
    await unwrap(a.api.followEntries(0));
    expect((await a.api.getState()).graceDeadline).toBeUndefined();
    expect(world.server.streamsOpened).toHaveLength(0);
    await verify([b], 'alice', 600);
    await expect
      .poll(() => world.server.openStreams, { timeout: 2_000, message: 'the stream resumed' })
      .toBe(1);
    expect(a.eventsOf('identity-token-expired')).toEqual([]);
  });

  it('R5: the stream opens with a silently renewed authorization token', async () => {
    const [a] = (await setup({ tabs: 1, accessLifetimeMs: 1_000 })).tabs as [Tab];
    await verify([a]);
    await unwrap(a.api.startConversation());
    await world.clock.advance(2_000);
    await unwrap(a.api.followEntries(0));
    await expect.poll(() => world.server.openStreams, { timeout: 2_000, message: 'one stream open' }).toBe(1);
    expect(world.server.streamsOpened[0]?.accessToken).toBe('access-2');
  });

  it('R5: a stream refused with a 401 expires that token, renews once and opens with the new one', async () => {
    const [a] = (await setup({ tabs: 1 })).tabs as [Tab];
    await verify([a]);
    await unwrap(a.api.startConversation());
    // The server forgot the session's token (revoked elsewhere, a restart of its key store).
    world.server.revoked.push('access-1');
    await unwrap(a.api.followEntries(0));
    await expect.poll(() => world.server.openStreams, { timeout: 2_000, message: 'one stream open' }).toBe(1);
    expect(world.server.streamsOpened.map((open) => open.accessToken)).toEqual(['access-2']);
    expect(world.server.exchanges).toBe(2);
    // The refusal is no network failure: the outbox still counts the server as reachable.
    expect(a.eventsOf('connectivity').map((event) => event.online)).not.toContain(false);
  });

  it('R7: a clear closes the stream; nothing of the cleared session is cached or sent after it', async () => {
    const [a, b] = (await setup({ tabs: 2 })).tabs as [Tab, Tab];
    await verify([a, b]);
    const { conversationId } = await unwrap(a.api.startConversation());
    await unwrap(b.api.followEntries(0));
    await expect.poll(() => world.server.openStreams, { timeout: 2_000, message: 'one stream open' }).toBe(1);
    await unwrap(a.api.clearSession(false));
    expect(world.server.openStreams).toBe(0);
    world.server.agentSays(conversationId, 'after the clear');
    expect(b.eventsOf('entries')).toEqual([]);
    expect(await world.store.listEntries(conversationId, 0)).toEqual([]);
  });

  it('R13: followEntries refuses anything but a sequence number or false', async () => {
    const [a] = (await setup({ tabs: 1 })).tabs as [Tab];
    await verify([a]);
    for (const bad of [-1, 1.5, '3', null]) {
      expect(await codeOf(a.api.followEntries(bad as never))).toBe('ERR_INVALID_ARGUMENT');
    }
  });
});
