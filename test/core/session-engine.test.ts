import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TabwardenError } from '../../src/core/errors.ts';
import { CLIENT_MESSAGE_ID_LIMIT, MESSAGE_TEXT_LIMIT } from '../../src/core/message-rules.ts';
import type { SessionEngine } from '../../src/core/session-engine.ts';
import { createBadTokenCorpus, type BadTokenCorpus } from '../fixtures/bad-token-corpus.ts';
import {
  codeOf,
  createWorld,
  verifyTabs,
  dumpDatabase,
  unwrap,
  type Tab,
  type World,
} from '../helpers/world.ts';

let corpus: BadTokenCorpus;
let world: World;
beforeAll(async () => {
  corpus = await createBadTokenCorpus();
});
afterEach(() => world?.close());

const MINUTE = 60_000;

async function setup(options: Parameters<typeof createWorld>[0] = {}): Promise<World> {
  world = await createWorld({ corpus, ...options });
  return world;
}

const verify = (tabs: Tab[], sub?: string, seconds?: number) => verifyTabs(world, tabs, sub, seconds);

const send = (tab: Tab, text: string, id = `m-${Math.random()}`) => tab.api.sendMessage(text, id);

/** Resolves once `count` calls of the engine's `method` have begun; rejects after 5 s of real time. */
function callsReaching(engine: SessionEngine, method: 'startConversation', count: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${count} ${method} calls within 5 s`)), 5_000);
    const original = engine[method].bind(engine);
    let calls = 0;
    engine[method] = (...args) => {
      const result = original(...args);
      if (++calls === count) {
        clearTimeout(timer);
        resolve();
      }
      return result;
    };
  });
}

describe('SessionEngine over comlink MessageChannels', () => {
  describe('R2 identity tokens', () => {
    it('R2: a valid token resolves its subject, issuer and expiry', async () => {
      const [tab] = (await setup()).tabs as [Tab];
      const token = await world.corpus.mintGood('alice');
      const claims = await unwrap(tab.api.setIdentityToken(token));
      expect(claims).toMatchObject({ sub: 'alice', iss: world.corpus.idp.issuer });
    });

    it('R2: every bad token is refused with its code and leaves the session and every tab untouched', async () => {
      const [a, b, c] = (await setup()).tabs as [Tab, Tab, Tab];
      await verify([a, b]);
      const started = await unwrap(a.api.startConversation());
      const before = {
        states: await Promise.all([a, b, c].map((t) => t.api.getState())),
        store: await dumpDatabase(world.storeName),
        exchanges: world.server.exchanges,
        events: [a, b, c].map((t) => t.events.length),
      };
      for (const bad of world.corpus.cases) {
        for (const tab of [a, c]) {
          expect({
            name: bad.name,
            code: await codeOf(tab.api.setIdentityToken(bad.token as string)),
          }).toEqual({
            name: bad.name,
            code: bad.code,
          });
        }
      }
      expect(await Promise.all([a, b, c].map((t) => t.api.getState()))).toEqual(before.states);
      expect(await dumpDatabase(world.storeName)).toEqual(before.store);
      expect(world.server.exchanges).toBe(before.exchanges);
      expect([a, b, c].map((t) => t.events.length)).toEqual(before.events);
      const entry = await unwrap(send(b, 'still here'));
      expect(entry.conversationId).toBe(started.conversationId);
    });
  });

  describe('R3 per tab, in memory', () => {
    it('R3: a tab is verified only after it presents a valid token itself', async () => {
      const [a, b] = (await setup()).tabs as [Tab, Tab];
      await verify([a]);
      expect((await a.api.getState()).verified).toBe(true);
      expect((await b.api.getState()).verified).toBe(false);
      expect(await codeOf(b.api.startConversation())).toBe('ERR_NOT_VERIFIED');
      await unwrap(a.api.startConversation());
      expect(await codeOf(send(b, 'hello'))).toBe('ERR_NOT_VERIFIED');
      expect(await codeOf(b.api.listEntries(0))).toBe('ERR_NOT_VERIFIED');
      expect((await b.api.getState()).conversationId).toBeUndefined();
    });

    it('R3: the identity token is never written to IndexedDB', async () => {
      const [a, b] = (await setup({ accessLifetimeMs: 1_000 })).tabs as [Tab, Tab];
      const first = await verify([a]);
      await unwrap(a.api.startConversation());
      await unwrap(send(a, 'one'));
      await world.clock.advance(2_000);
      const second = await verify([b]);
      await unwrap(send(b, 'two'));
      await world.engine.whenIdle();
      const stored = JSON.stringify(await dumpDatabase(world.storeName));
      expect(stored).toContain('conversation-of-alice');
      for (const token of [first, second]) {
        for (const part of token.split('.')) expect(stored).not.toContain(part);
      }
    });

    it('R3: after a worker restart every tab is unverified until it presents its token again', async () => {
      const [a, b] = (await setup()).tabs as [Tab, Tab];
      const token = await verify([a, b]);
      const { conversationId } = await unwrap(a.api.startConversation());
      await world.restartWorker();
      expect((await a.api.getState()).verified).toBe(false);
      expect(await codeOf(send(a, 'hi'))).toBe('ERR_NOT_VERIFIED');
      const known = (await a.api.getState()).sessionVersion;
      await unwrap(a.api.restoreIdentityToken(token, known));
      expect((await a.api.getState()).conversationId).toBe(conversationId);
      expect((await b.api.getState()).verified).toBe(false);
    });
  });

  describe('R4 the button starts the session', () => {
    it('R4: three tabs starting at once make exactly one exchange and share one conversation', async () => {
      const tabs = (await setup({ tabs: 3 })).tabs;
      await verify(tabs);
      let release = () => {};
      world.server.gate = new Promise((resolve) => (release = resolve));
      // The exchange is held until every call is inside the engine: only then does one exchange
      // prove a single flight, not calls that arrived after the first one had finished.
      const allArrived = callsReaching(world.engine, 'startConversation', tabs.length);
      const starts = tabs.map((tab) => unwrap(tab.api.startConversation()));
      await allArrived;
      release();
      const infos = await Promise.all(starts);
      expect(world.server.exchanges).toBe(1);
      expect(new Set(infos.map((i) => i.conversationId)).size).toBe(1);
      for (const tab of tabs)
        expect((await tab.waitForEvents('session-started'))[0]?.conversationId).toBe(
          infos[0]?.conversationId,
        );
    });

    it('R4: the session record (without the identity token) survives a worker restart; no new exchange', async () => {
      const [a] = (await setup()).tabs as [Tab];
      const token = await verify([a]);
      const { conversationId } = await unwrap(a.api.startConversation());
      await world.engine.whenIdle();
      const [record] = (await dumpDatabase(world.storeName)).session as Array<Record<string, unknown>>;
      expect(record).toMatchObject({ subject: { sub: 'alice' }, conversationId, accessToken: 'access-1' });
      expect(Object.keys(record ?? {}).sort()).toEqual(
        ['accessToken', 'accessTokenExpiresAt', 'conversationId', 'sessionVersion', 'subject'].sort(),
      );
      await world.restartWorker();
      await unwrap(a.api.setIdentityToken(token));
      expect(await unwrap(a.api.startConversation())).toMatchObject({ conversationId });
      expect(world.server.exchanges).toBe(1);
    });
  });

  describe('message rules (src/core/message-rules.ts)', () => {
    it('the engine counts text in code points and caps client ids as the server does', async () => {
      const [a] = (await setup()).tabs as [Tab];
      await verify([a]);
      await unwrap(a.api.startConversation());
      const atLimit = '😀'.repeat(MESSAGE_TEXT_LIMIT);
      expect((await unwrap(send(a, atLimit, 'at-limit'))).text).toBe(atLimit);
      expect(await codeOf(send(a, `${atLimit}😀`))).toBe('ERR_INVALID_ARGUMENT');
      expect(await codeOf(send(a, 'hi', 'x'.repeat(CLIENT_MESSAGE_ID_LIMIT + 1)))).toBe(
        'ERR_INVALID_ARGUMENT',
      );
      expect(await codeOf(send(a, 'hi', 'has space'))).toBe('ERR_INVALID_ARGUMENT');
      expect(world.server.posted).toEqual(['at-limit']);
    });
  });

  describe('R5 silent renewal', () => {
    it('R5: an expired authorization token is renewed once, silently, for every tab at once', async () => {
      const [a, b, c] = (await setup({ accessLifetimeMs: 2_000 })).tabs as [Tab, Tab, Tab];
      await verify([a, b, c]);
      await unwrap(a.api.startConversation());
      await world.clock.advance(3_000);
      const entries = await Promise.all([a, b, c].map((tab, i) => unwrap(send(tab, `after expiry ${i}`))));
      expect(entries.map((e) => e.text).sort()).toEqual([
        'after expiry 0',
        'after expiry 1',
        'after expiry 2',
      ]);
      expect(world.server.exchanges).toBe(2);
      for (const tab of [a, b, c]) expect(tab.eventsOf('identity-token-expired')).toEqual([]);
    });

    it('R5: a 401 from the server renews the authorization token and replays the request once', async () => {
      const [a] = (await setup()).tabs as [Tab];
      await verify([a]);
      await unwrap(a.api.startConversation());
      world.server.revoked.push('access-1');
      const entry = await unwrap(send(a, 'replayed'));
      expect(entry.text).toBe('replayed');
      expect(world.server.exchanges).toBe(2);
      expect(a.eventsOf('identity-token-expired')).toEqual([]);
    });
  });

  describe('R6 expiry event and grace', () => {
    async function expiredSession(): Promise<[Tab, Tab, Tab]> {
      const tabs = (await setup({ accessLifetimeMs: 30_000 })).tabs as [Tab, Tab, Tab];
      await verify([tabs[0], tabs[1]], 'alice', 60);
      await unwrap(tabs[0].api.startConversation());
      await world.clock.advance(2 * MINUTE);
      return tabs;
    }

    it('R6: with both tokens expired a request waits and every verified tab gets the expiry event', async () => {
      const [a, b, c] = await expiredSession();
      let settled = false;
      void send(a, 'waiting').then(() => (settled = true));
      const [event] = await a.waitForEvents('identity-token-expired');
      await b.waitForEvents('identity-token-expired');
      expect(event?.deadline).toBe(world.clock.now() + 30_000);
      expect(c.eventsOf('identity-token-expired')).toEqual([]);
      expect(settled).toBe(false);
      expect((await a.api.getState()).graceDeadline).toBe(event?.deadline);
    });

    it('R6: one token from any tab releases every waiting request in every tab', async () => {
      const [a, b] = await expiredSession();
      const waiting = [send(a, 'from a'), send(b, 'from b'), a.api.listEntries(0)];
      await a.waitForEvents('identity-token-expired');
      await world.clock.advance(10_000);
      await verify([b]);
      const [fromA, fromB, list] = await Promise.all(waiting.map((w) => unwrap(w as never)));
      expect([(fromA as { text: string }).text, (fromB as { text: string }).text]).toEqual([
        'from a',
        'from b',
      ]);
      expect(Array.isArray(list)).toBe(true);
      expect(world.server.exchanges).toBe(2);
      expect((await a.api.getState()).graceDeadline).toBeUndefined();
    });

    it('R6: without a new token within the grace window the session is cleared everywhere', async () => {
      const [a, b, c] = await expiredSession();
      const waiting = send(a, 'lost');
      await a.waitForEvents('identity-token-expired');
      await world.clock.advance(30_000);
      expect(await codeOf(waiting)).toBe('ERR_SESSION_CLEARED');
      for (const tab of [a, b, c]) {
        expect((await tab.waitForEvents('session-cleared'))[0]?.reason).toBe('identity-token-timeout');
        expect((await tab.api.getState()).verified).toBe(false);
      }
      const dump = await dumpDatabase(world.storeName);
      expect([dump.session, dump.entries, dump.outbox]).toEqual([[], [], []]);
    });

    it('R6: at most one expiry event per grace window, however many requests wait', async () => {
      const [a, b] = await expiredSession();
      const waiting = [send(a, '1'), send(a, '2'), send(b, '3'), a.api.startConversation()];
      await a.waitForEvents('identity-token-expired');
      await b.waitForEvents('identity-token-expired');
      await world.clock.advance(29_000);
      expect(a.eventsOf('identity-token-expired')).toHaveLength(1);
      expect(b.eventsOf('identity-token-expired')).toHaveLength(1);
      await world.clock.advance(1_000);
      expect(await Promise.all(waiting.map(codeOf))).toEqual(Array(4).fill('ERR_SESSION_CLEARED'));
    });

    it('R6: the stored deadline survives a worker restart: neither lost nor extended, and no second event', async () => {
      const [a] = await expiredSession();
      void send(a, 'before restart');
      const [event] = await a.waitForEvents('identity-token-expired');
      await world.engine.whenIdle();
      await world.clock.advance(20_000);
      await world.restartWorker();
      expect((await world.store.loadSession())?.graceDeadline).toBe(event?.deadline);
      await world.clock.advance(9_999);
      expect(a.eventsOf('session-cleared')).toEqual([]);
      await world.clock.advance(1);
      expect((await a.waitForEvents('session-cleared'))[0]?.reason).toBe('identity-token-timeout');
      expect(a.eventsOf('identity-token-expired')).toHaveLength(1);
      // A tab that learns of the clear late (it was away) is told why.
      expect((await a.api.getState()).lastClearReason).toBe('identity-token-timeout');
    });

    it('R6: a deadline that passed while the worker was stopped clears the session on restart', async () => {
      const [a] = await expiredSession();
      void send(a, 'before restart');
      await a.waitForEvents('identity-token-expired');
      await world.engine.whenIdle();
      world.stopWorker();
      await world.clock.advance(45_000);
      await world.restartWorker();
      expect(await world.store.loadSession()).toBeUndefined();
    });
  });

  describe('R7 clearSession', () => {
    it('R7: clearSession in one tab clears every tab and the store, revokes, and resolves after every tab confirmed', async () => {
      const [a, b, c] = (await setup()).tabs as [Tab, Tab, Tab];
      await verify([a, b]);
      await unwrap(a.api.startConversation());
      await unwrap(send(a, 'secret'));
      const before = (await a.api.getState()).sessionVersion;
      const { sessionVersion } = await unwrap(b.api.clearSession(false));
      expect(sessionVersion).toBeGreaterThan(before);
      for (const tab of [a, b, c]) {
        // Already there when the promise resolved: the clear waited for every tab.
        expect(tab.eventsOf('session-cleared')).toEqual([
          { type: 'session-cleared', sessionVersion, reason: 'logout' },
        ]);
        expect(await tab.api.getState()).toEqual({
          sessionVersion,
          verified: false,
          lastClearReason: 'logout',
        });
      }
      const dump = await dumpDatabase(world.storeName);
      expect([dump.session, dump.entries, dump.outbox]).toEqual([[], [], []]);
      await world.engine.whenIdle();
      expect(world.server.revoked).toEqual(['access-1']);
      expect(world.server.ended).toEqual([]);
      expect(await codeOf(send(a, 'after'))).toBe('ERR_NOT_VERIFIED');
    });

    it('R7: entries on their way during a clear are neither stored nor handed out', async () => {
      const [a, b] = (await setup()).tabs as [Tab, Tab];
      await verify([a, b]);
      await unwrap(a.api.startConversation());
      await unwrap(send(a, 'secret'));
      let release = () => {};
      world.server.listGate = new Promise((resolve) => (release = resolve));
      const arrived = new Promise<void>((resolve) => (world.server.onList = resolve));
      const listing = a.api.listEntries(0);
      await arrived;
      await unwrap(b.api.clearSession(false));
      release();
      expect(await codeOf(listing)).toBe('ERR_SESSION_CLEARED');
      const dump = await dumpDatabase(world.storeName);
      expect(dump.entries).toEqual([]);
    });

    it('R7: logout wins over a send, and the page is told the truth: a send on the wire when the clear lands resolves delivered; one asked for after it is never sent', async () => {
      const [a, b] = (await setup()).tabs as [Tab, Tab];
      await verify([a, b]);
      await unwrap(a.api.startConversation());
      let release = () => {};
      world.server.postGate = new Promise((resolve) => (release = resolve));
      const stored = new Promise<void>((resolve) => (world.server.onPost = resolve));
      const onTheWire = send(a, 'already gone', 'm-wire');
      await stored;
      const clearing = b.api.clearSession(false);
      await a.waitForEvents('session-cleared');
      const afterClear = send(a, 'too late', 'm-late');
      release();
      await unwrap(clearing);
      // The server stored the first message, so the page learns it was delivered...
      expect(await onTheWire).toMatchObject({ ok: true, value: { clientMessageId: 'm-wire' } });
      // ...and nothing asked for once the clear began reaches the server.
      expect(['ERR_SESSION_CLEARED', 'ERR_NOT_VERIFIED']).toContain(await codeOf(afterClear));
      expect(world.server.posted).toEqual(['m-wire']);
      // Nothing of the cleared session is written after the wipe.
      expect((await dumpDatabase(world.storeName)).entries).toEqual([]);
    });

    it('R7: clearSession(true) also ends the conversation on the server', async () => {
      const [a] = (await setup()).tabs as [Tab];
      await verify([a]);
      const { conversationId } = await unwrap(a.api.startConversation());
      await unwrap(a.api.clearSession(true));
      await world.engine.whenIdle();
      expect(world.server.ended).toEqual([conversationId]);
    });

    it('R7: clearSession is idempotent and works offline', async () => {
      const [a, b] = (await setup()).tabs as [Tab, Tab];
      await verify([a]);
      await unwrap(a.api.startConversation());
      world.server.offline = true;
      const first = await unwrap(a.api.clearSession(false));
      const afterFirst = await Promise.all([a, b].map((t) => t.api.getState()));
      expect(afterFirst.map((state) => state.verified)).toEqual([false, false]);
      const second = await unwrap(b.api.clearSession(false));
      // The second clear finds nothing left to wipe: every tab's state is as the first left it, one
      // epoch later (sessionVersion counts clears as well as sessions).
      expect(second.sessionVersion).toBe(first.sessionVersion + 1);
      expect(await Promise.all([a, b].map((t) => t.api.getState()))).toEqual(
        afterFirst.map((state) => ({ ...state, sessionVersion: second.sessionVersion })),
      );
      expect(await world.store.loadSession()).toBeUndefined();
      expect(world.server.ended).toEqual([]);
    });

    it('R7: a tab that never confirms delays the clear by at most the ack timeout', async () => {
      const [a, b] = (await setup()).tabs as [Tab, Tab];
      await verify([a, b]);
      await world.engine.subscribe(b.id, () => new Promise<void>(() => {}));
      let done = false;
      const clearing = unwrap(a.api.clearSession(false)).then(() => (done = true));
      await a.waitForEvents('session-cleared');
      expect(done).toBe(false);
      await world.clock.advance(1_000);
      await clearing;
      expect(done).toBe(true);
    });
  });

  describe('R8 user switch', () => {
    it('R8: a valid token for another subject clears the old session everywhere before starting fresh', async () => {
      const [a, b, c] = (await setup()).tabs as [Tab, Tab, Tab];
      await verify([a, b], 'alice');
      const alice = await unwrap(a.api.startConversation());
      await unwrap(send(a, "alice's secret"));
      await verify([c], 'bob');
      for (const tab of [a, b, c])
        expect((await tab.waitForEvents('session-cleared'))[0]?.reason).toBe('user-switch');
      expect((await a.api.getState()).verified).toBe(false);
      expect((await c.api.getState()).verified).toBe(true);
      const stored = JSON.stringify(await dumpDatabase(world.storeName));
      expect(stored).not.toContain('alice');
      const bob = await unwrap(c.api.startConversation());
      expect(bob.subject.sub).toBe('bob');
      expect(bob.conversationId).not.toBe(alice.conversationId);
      expect(await unwrap(c.api.listEntries(0))).toEqual([]);
      await world.engine.whenIdle();
      expect(world.server.revoked).toContain('access-1');
    });

    it("R8: a user switch racing a token of the previous user never lets one user into the other's session", async () => {
      const [a, b, c] = (await setup()).tabs as [Tab, Tab, Tab];
      await verify([a], 'alice', 600);
      await unwrap(a.api.startConversation());
      // Tab a never confirms, so the user-switch clear stays open for the ack timeout.
      await world.engine.subscribe(a.id, () => new Promise<void>(() => {}));
      const bob = world.corpus.idp.mint({
        sub: 'bob',
        now: world.clock.now(),
        claims: { aud: 'tabwarden-chat' },
      });
      const alice = world.corpus.idp.mint({
        sub: 'alice',
        expiresInSeconds: 7200,
        now: world.clock.now(),
        claims: { aud: 'tabwarden-chat' },
      });
      const bobSet = b.api.setIdentityToken(await bob);
      await b.waitForEvents('session-cleared');
      const aliceSet = c.api.setIdentityToken(await alice);
      await world.clock.advance(1_000); // the first clear ends
      await b.waitForEvents('session-cleared', 2); // alice's token switched bob out again
      await world.clock.advance(1_000); // the second clear ends
      expect([await codeOf(bobSet), await codeOf(aliceSet)]).toEqual(['ok', 'ok']);
      const states = await Promise.all([a, b, c].map((t) => t.api.getState()));
      const verifiedAs = states.filter((st) => st.verified).map((st) => st.subject?.sub);
      expect(verifiedAs).toEqual(['alice']); // the last token wins; bob's tab was switched out
      expect(await codeOf(b.api.startConversation())).toBe('ERR_NOT_VERIFIED');
      expect((await unwrap(c.api.startConversation())).subject.sub).toBe('alice');
    });

    it('R8: a clear during an exchange does not leave the next user joined to it', async () => {
      const [a, b] = (await setup()).tabs as [Tab, Tab];
      await verify([a], 'alice');
      let release = () => {};
      world.server.gate = new Promise((resolve) => (release = resolve));
      const aliceStart = a.api.startConversation();
      await verify([b], 'bob');
      const bobStart = b.api.startConversation();
      release();
      expect(await codeOf(aliceStart)).toBe('ERR_SESSION_CLEARED');
      expect((await unwrap(bobStart)).subject.sub).toBe('bob');
    });

    it("R8: a stale token of the previous user cannot rejoin the new user's session after a restart", async () => {
      const [a, b] = (await setup()).tabs as [Tab, Tab];
      const aliceToken = await verify([a], 'alice');
      await verify([b], 'bob');
      await unwrap(b.api.startConversation());
      await world.restartWorker();
      expect(await codeOf(a.api.restoreIdentityToken(aliceToken, 99))).toBe('ERR_SESSION_CLEARED');
      expect((await a.api.getState()).verified).toBe(false);
    });

    it('R7: a tab that missed a clear while the worker was down cannot rejoin with its old token', async () => {
      const [a, b] = (await setup()).tabs as [Tab, Tab];
      const token = await verify([a, b]);
      await unwrap(a.api.startConversation());
      const knownByA = (await a.api.getState()).sessionVersion;
      await world.restartWorker();
      // Only b reconnects in time and logs out; a was idle and heard nothing.
      await unwrap(b.api.restoreIdentityToken(token, knownByA));
      await unwrap(b.api.clearSession(false));
      expect(await codeOf(a.api.restoreIdentityToken(token, knownByA))).toBe('ERR_SESSION_CLEARED');
      expect((await a.api.getState()).verified).toBe(false);
    });
  });

  describe('R9 refresh broadcast', () => {
    it('R9: a newer token for the same subject is adopted and sent to every other verified tab', async () => {
      const [a, b, c] = (await setup()).tabs as [Tab, Tab, Tab];
      await verify([a, b], 'alice', 600);
      await world.clock.advance(1_000);
      const newer = await verify([a], 'alice', 3600);
      const [event] = await b.waitForEvents('identity-token-refreshed');
      expect(event).toMatchObject({ identityToken: newer, claims: { sub: 'alice' } });
      expect(a.eventsOf('identity-token-refreshed')).toEqual([]);
      expect(c.eventsOf('identity-token-refreshed')).toEqual([]);
    });

    it('R9: an older token never replaces a newer one', async () => {
      const [a, b] = (await setup({ accessLifetimeMs: 1_000 })).tabs as [Tab, Tab];
      const older = await world.corpus.idp.mint({
        sub: 'alice',
        expiresInSeconds: 120,
        now: world.clock.now(),
        claims: { aud: 'tabwarden-chat' },
      });
      await verify([a], 'alice', 3600);
      await unwrap(b.api.setIdentityToken(older));
      expect(a.eventsOf('identity-token-refreshed')).toEqual([]);
      await unwrap(a.api.startConversation());
      await world.clock.advance(5 * MINUTE); // the older token expired, the newer did not
      expect((await unwrap(send(b, 'renewed with the newer token'))).text).toBe(
        'renewed with the newer token',
      );
      expect(b.eventsOf('identity-token-expired')).toEqual([]);
    });
  });

  describe('storage faults', () => {
    const quotaExceeded = () =>
      Promise.reject(
        new TabwardenError('ERR_STORAGE', "The browser's storage quota for this site is used up"),
      );

    it('R4/R7: a session the store refuses to keep is not started: ERR_STORAGE, its token revoked, and it starts once the store takes it', async () => {
      let full = true;
      const [a, b] = (
        await setup({
          wrapStore: (store) => ({
            ...store,
            saveSession: (record) => (full ? quotaExceeded() : store.saveSession(record)),
            putEntries: (entries) => (full ? quotaExceeded() : store.putEntries(entries)),
          }),
        })
      ).tabs as [Tab, Tab];
      await verify([a, b]);
      expect(await codeOf(a.api.startConversation())).toBe('ERR_STORAGE');
      expect(await b.api.getState()).not.toHaveProperty('conversationId');
      expect(await codeOf(send(b, 'too early'))).toBe('ERR_NO_SESSION');
      await expect.poll(() => world.server.revoked).toHaveLength(1);
      expect(a.eventsOf('session-started')).toEqual([]);

      full = false;
      const { conversationId } = await unwrap(b.api.startConversation());
      expect(await unwrap(send(a, 'now'))).toMatchObject({ conversationId, text: 'now' });
    });

    it('R12: a message the server stored is reported delivered even when the cache cannot keep it', async () => {
      let full = false;
      const [a] = (
        await setup({
          wrapStore: (store) => ({
            ...store,
            putEntries: (entries) => (full ? quotaExceeded() : store.putEntries(entries)),
          }),
        })
      ).tabs as [Tab];
      await verify([a]);
      await unwrap(a.api.startConversation());
      full = true;
      expect(await unwrap(send(a, 'kept by the server'))).toMatchObject({
        seq: 1,
        text: 'kept by the server',
      });
      expect((await unwrap(a.api.listEntries(0))).map((entry) => entry.text)).toEqual(['kept by the server']);
    });

    it('R7: storage deleted under the worker clears the session in every tab (storage-cleared) and revokes its token', async () => {
      const [a, b] = (await setup()).tabs as [Tab, Tab];
      await verify([a, b]);
      const { sessionVersion } = await unwrap(a.api.startConversation());
      await world.engine.storageDeleted();
      for (const tab of [a, b]) {
        expect(tab.eventsOf('session-cleared')).toEqual([
          { type: 'session-cleared', sessionVersion: sessionVersion + 1, reason: 'storage-cleared' },
        ]);
        expect(await tab.api.getState()).toMatchObject({
          verified: false,
          lastClearReason: 'storage-cleared',
        });
      }
      await expect.poll(() => world.server.revoked).toHaveLength(1);
    });
  });

  describe('R12 offline', () => {
    it('R12: offline, cached history stays readable and a network failure never clears the session', async () => {
      const [a] = (await setup()).tabs as [Tab];
      await verify([a]);
      await unwrap(a.api.startConversation());
      await unwrap(send(a, 'one'));
      await unwrap(send(a, 'two'));
      world.server.offline = true;
      expect((await unwrap(a.api.listEntries(0))).map((e) => e.text)).toEqual(['one', 'two']);
      expect(await unwrap(send(a, 'three'))).toMatchObject({ status: 'pending', text: 'three' });
      expect(await world.store.loadSession()).toBeDefined();
      world.server.offline = false;
      expect(await unwrap(send(a, 'four'))).toMatchObject({ seq: 4, text: 'four' });
      expect((await unwrap(a.api.listEntries(0))).map((e) => e.text)).toEqual([
        'one',
        'two',
        'three',
        'four',
      ]);
    });
  });
});
