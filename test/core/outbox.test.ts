// R12's outbox in the real engine over comlink, with fake-indexeddb and a fake server that stores
// a client message id once: pending answers, delivery in order and exactly once, refusals,
// retries, clears.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TabwardenError } from '../../src/core/errors.ts';
import type { ConversationEntry } from '../../src/core/protocol.ts';
import { createBadTokenCorpus, type BadTokenCorpus } from '../fixtures/bad-token-corpus.ts';
import { createWorld, dumpDatabase, unwrap, type Tab, type World } from '../helpers/world.ts';

let corpus: BadTokenCorpus;
let world: World;
beforeAll(async () => {
  corpus = await createBadTokenCorpus();
});
afterEach(() => world?.close());

/** A world whose three tabs are verified as alice and share a started conversation. */
async function started(accessLifetimeMs?: number): Promise<[Tab, Tab, Tab]> {
  world = await createWorld({ corpus, tabs: 3, ...(accessLifetimeMs ? { accessLifetimeMs } : {}) });
  const token = await mintAlice();
  for (const tab of world.tabs) await unwrap(tab.api.setIdentityToken(token));
  await unwrap(world.tabs[0]!.api.startConversation());
  return world.tabs as [Tab, Tab, Tab];
}

const mintAlice = () =>
  world.corpus.idp.mint({
    sub: 'alice',
    expiresInSeconds: 3600,
    now: world.clock.now(),
    claims: { aud: 'tabwarden-chat' },
  });

/** Resolves once `check` holds; fails after 5 s of real time (events cross a MessageChannel). */
const until = (check: () => boolean | Promise<boolean>, what: string) =>
  expect.poll(check, { timeout: 5_000, message: `not within 5 s: ${what}` }).toBe(true);

const storedTexts = async (tab: Tab) => (await unwrap(tab.api.listEntries(0))).map((entry) => entry.text);

/** Resolves once the fake server stored `count` messages. */
const untilPosted = (count: number) => until(() => world.server.posted.length >= count, `${count} stored`);

describe('R12 outbox', () => {
  it('R12: offline a send answers pending at once, every verified tab is shown it, and the next retry delivers each message once, in order', async () => {
    const [a, b, c] = await started();
    world.server.offline = true;
    const sent = [];
    for (const [i, tab] of [a, b, a, c].entries())
      sent.push(await unwrap(tab.api.sendMessage(`m${i}`, `id-${i}`)));
    expect(sent.map((m) => ('status' in m ? m.status : 'stored'))).toEqual([
      'pending',
      'pending',
      'pending',
      'pending',
    ]);
    for (const tab of [a, b, c]) {
      await until(() => tab.eventsOf('outbox-changed').at(-1)?.messages.length === 4, `${tab.id} shown 4`);
      const last = tab.eventsOf('outbox-changed').at(-1);
      expect(last?.messages.map((m) => m.text)).toEqual(['m0', 'm1', 'm2', 'm3']);
      expect(tab.eventsOf('connectivity').at(-1)).toMatchObject({ online: false });
    }
    expect((await dumpDatabase(world.storeName)).outbox).toHaveLength(4);
    world.server.offline = false;
    await world.clock.advance(30_000);
    await untilPosted(4);
    await b.waitForEvents('message-delivered', 4);
    expect(world.server.posted).toEqual(['id-0', 'id-1', 'id-2', 'id-3']);
    expect(await storedTexts(a)).toEqual(['m0', 'm1', 'm2', 'm3']);
    expect(await unwrap(a.api.listOutbox())).toEqual([]);
    await until(() => b.eventsOf('outbox-changed').at(-1)?.messages.length === 0, 'an empty outbox shown');
    await until(() => c.eventsOf('connectivity').at(-1)?.online === true, 'online again');
  });

  it('R12: a tab saying the network is back delivers at once, without waiting for the retry', async () => {
    const [a] = await started();
    world.server.offline = true;
    await unwrap(a.api.sendMessage('waited', 'w-1'));
    world.server.offline = false;
    await a.api.networkOnline();
    await untilPosted(1);
    expect(await storedTexts(a)).toEqual(['waited']);
  });

  it('R12: the live stream reaching the server delivers the outbox at once, without waiting for the retry', async () => {
    const [a] = await started();
    world.server.offline = true;
    await unwrap(a.api.sendMessage('waited', 'l-1'));
    world.server.offline = false;
    // No clock advance and no `online` from a tab: the stream's open is the request that succeeds.
    await unwrap(a.api.followEntries(0));
    await untilPosted(1);
    expect(await storedTexts(a)).toEqual(['waited']);
    await until(() => a.eventsOf('connectivity').at(-1)?.online === true, 'online again');
  });

  it('R12: a send while messages wait goes behind them, and the outbox survives a worker restart', async () => {
    const [a] = await started();
    world.server.offline = true;
    await unwrap(a.api.sendMessage('first', 'o-1'));
    await unwrap(a.api.sendMessage('second', 'o-2'));
    world.stopWorker();
    world.server.offline = false;
    await world.restartWorker();
    // The restarted worker delivers what it found, before any tab is back (R10).
    await untilPosted(2);
    await unwrap(a.api.setIdentityToken(await mintAlice()));
    const third = await unwrap(a.api.sendMessage('third', 'o-3'));
    expect(third).toMatchObject({ seq: 3, text: 'third' });
    expect(world.server.posted).toEqual(['o-1', 'o-2', 'o-3']);
  });

  it('R12: the same client message id sent twice is stored once', async () => {
    const [a, b] = await started();
    const first = await unwrap(a.api.sendMessage('once', 'same-id'));
    const again = await unwrap(b.api.sendMessage('once', 'same-id'));
    expect(again).toEqual(first);
    expect(world.server.posted).toEqual(['same-id']);
  });

  it('R12: a 5xx keeps the message pending until the server recovers', async () => {
    const [a] = await started();
    world.server.postFailure = new TabwardenError('ERR_SERVER', 'The server answered 503', { status: 503 });
    expect(await unwrap(a.api.sendMessage('during the outage', 's-1'))).toMatchObject({ status: 'pending' });
    world.server.postFailure = undefined;
    await world.clock.advance(1_000);
    await untilPosted(1);
    expect(await storedTexts(a)).toEqual(['during the outage']);
  });

  it('R12: a 4xx for a waiting message marks it failed with its code; retry delivers it, discard drops it', async () => {
    const [a, b] = await started();
    world.server.offline = true;
    await unwrap(a.api.sendMessage('refused, then retried', 'f-1'));
    await unwrap(a.api.sendMessage('refused, then dropped', 'f-2'));
    world.server.offline = false;
    world.server.postFailure = new TabwardenError('ERR_CONVERSATION_ENDED', 'The server answered 409', {
      status: 409,
    });
    await a.api.networkOnline();
    const failedEverywhere = async () => {
      const last = b.eventsOf('outbox-changed').at(-1);
      return last?.messages.length === 2 && last.messages.every((m) => m.status === 'failed');
    };
    await until(failedEverywhere, 'both shown failed');
    const outbox = await unwrap(b.api.listOutbox());
    expect(outbox.map((m) => [m.clientMessageId, m.status, m.error?.code])).toEqual([
      ['f-1', 'failed', 'ERR_CONVERSATION_ENDED'],
      ['f-2', 'failed', 'ERR_CONVERSATION_ENDED'],
    ]);
    world.server.postFailure = undefined;
    await unwrap(b.api.discardMessage('f-2'));
    await unwrap(b.api.retryMessage('f-1'));
    await untilPosted(1);
    await a.waitForEvents('message-delivered', 1);
    expect(world.server.posted).toEqual(['f-1']);
    expect(await unwrap(a.api.listOutbox())).toEqual([]);
    expect(await a.api.retryMessage('f-2')).toMatchObject({ ok: false, error: { code: 'ERR_NOT_FOUND' } });
  });

  it('R12: a refusal of a fresh send rejects with its code and keeps nothing', async () => {
    const [a] = await started();
    world.server.postFailure = new TabwardenError('ERR_PAYLOAD_TOO_LARGE', 'too large', { status: 413 });
    expect(await a.api.sendMessage('big', 'big-1')).toMatchObject({
      ok: false,
      error: { code: 'ERR_PAYLOAD_TOO_LARGE' },
    });
    expect(await unwrap(a.api.listOutbox())).toEqual([]);
  });

  it('R12: a message on the wire cannot be discarded: ERR_MESSAGE_IN_FLIGHT, and its sender is told it was delivered', async () => {
    const [a, b] = await started();
    let release = () => {};
    world.server.postGate = new Promise((resolve) => (release = resolve));
    const stored = new Promise<void>((resolve) => (world.server.onPost = resolve));
    const sending = unwrap(a.api.sendMessage('already on its way', 'w-1'));
    await stored;
    expect(await b.api.discardMessage('w-1')).toMatchObject({
      ok: false,
      error: { code: 'ERR_MESSAGE_IN_FLIGHT' },
    });
    release();
    expect(await sending).toMatchObject({ text: 'already on its way', seq: 1 });
    expect(world.server.posted).toEqual(['w-1']);
  });

  it('R12: a 5xx or a 429 is a server that was reached: the message waits, but no tab is told offline', async () => {
    const [a, b] = await started();
    world.server.postFailure = new TabwardenError('ERR_SERVER', 'The server answered 503', { status: 503 });
    expect(await unwrap(a.api.sendMessage('during the outage', 's-1'))).toMatchObject({ status: 'pending' });
    world.server.postFailure = new TabwardenError('ERR_RATE_LIMITED', 'The server answered 429', {
      status: 429,
    });
    await a.api.networkOnline();
    await until(() => b.eventsOf('outbox-changed').length > 0, 'the outbox shown');
    expect([...a.eventsOf('connectivity'), ...b.eventsOf('connectivity')]).not.toContainEqual(
      expect.objectContaining({ online: false }),
    );
  });

  it('R3/R12: connectivity, like the outbox, is told only to verified tabs', async () => {
    world = await createWorld({ corpus, tabs: 2 });
    const [a, stranger] = world.tabs as [Tab, Tab];
    await unwrap(a.api.setIdentityToken(await mintAlice()));
    await unwrap(a.api.startConversation());
    world.server.offline = true;
    await unwrap(a.api.sendMessage('offline', 'u-1'));
    world.server.offline = false;
    await a.api.networkOnline();
    await untilPosted(1);
    await until(() => a.eventsOf('connectivity').at(-1)?.online === true, 'a told online again');
    expect(stranger.eventsOf('connectivity')).toEqual([]);
    expect(stranger.eventsOf('outbox-changed')).toEqual([]);
  });

  it('R12: sending a refused message id again answers its refusal, not pending; retry puts it back in line', async () => {
    const [a] = await started();
    world.server.offline = true;
    await unwrap(a.api.sendMessage('refused later', 'r-1'));
    world.server.offline = false;
    world.server.postFailure = new TabwardenError('ERR_CONVERSATION_ENDED', 'The server answered 409', {
      status: 409,
    });
    await a.api.networkOnline();
    await until(async () => (await unwrap(a.api.listOutbox()))[0]?.status === 'failed', 'r-1 failed');
    expect(await a.api.sendMessage('refused later', 'r-1')).toMatchObject({
      ok: false,
      error: { code: 'ERR_CONVERSATION_ENDED' },
    });
    world.server.postFailure = undefined;
    await unwrap(a.api.retryMessage('r-1'));
    await untilPosted(1);
    expect(world.server.posted).toEqual(['r-1']);
  });

  it('R7/R12: clearSession with messages queued sends none of them, empties the outbox, and a new session of the same user does not send them either', async () => {
    const [a, b] = await started();
    world.server.offline = true;
    for (let i = 0; i < 5; i++) await unwrap(a.api.sendMessage(`secret ${i}`, `c-${i}`));
    await unwrap(b.api.clearSession(false));
    expect((await dumpDatabase(world.storeName)).outbox).toEqual([]);
    world.server.offline = false;
    await world.clock.advance(60_000);
    await unwrap(a.api.setIdentityToken(await mintAlice()));
    await unwrap(a.api.startConversation());
    const after: ConversationEntry | unknown = await unwrap(a.api.sendMessage('after the logout', 'new-1'));
    expect(after).toMatchObject({ text: 'after the logout' });
    expect(world.server.posted).toEqual(['new-1']);
  });

  it('R6/R12: with both tokens expired while offline, delivery waits: no grace window nobody could close', async () => {
    const [a, b] = await started(30_000);
    world.server.offline = true;
    await unwrap(a.api.sendMessage('written offline', 'x-1'));
    // Past both tokens' lifetimes, the outbox retrying meanwhile.
    await world.clock.advance(2 * 3600_000);
    expect(a.eventsOf('identity-token-expired')).toEqual([]);
    expect((await b.api.getState()).graceDeadline).toBeUndefined();
    world.server.offline = false;
    await unwrap(b.api.setIdentityToken(await mintAlice()));
    await untilPosted(1);
    expect(a.eventsOf('session-cleared')).toEqual([]);
  });

  it('R6/R12: an authorization that expired while offline waits for the network, then renews as usual (R5)', async () => {
    const [a] = await started(30_000);
    world.server.offline = true;
    await unwrap(a.api.sendMessage('written offline', 'x-1'));
    // Past the authorization token's lifetime, within the identity token's.
    await world.clock.advance(60_000);
    const exchangesBefore = world.server.exchanges;
    world.server.offline = false;
    await a.api.networkOnline();
    await untilPosted(1);
    expect(world.server.exchanges).toBe(exchangesBefore + 1);
    expect(a.eventsOf('session-cleared')).toEqual([]);
  });
});
