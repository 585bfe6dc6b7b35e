import { openDB } from 'idb';
import { describe, expect, it } from 'vitest';
import {
  migrations,
  openDatabase,
  openSessionStore,
  SCHEMA_VERSION,
  type OutboxItem,
  type SessionRecord,
} from '../../src/core/store.ts';

const uniqueName = () => `store-test-${Math.random().toString(36).slice(2)}`;

const record = (sessionVersion: number): SessionRecord => ({
  subject: { iss: 'https://idp.test', sub: 'alice' },
  accessToken: 'access-1',
  accessTokenExpiresAt: 1_000,
  conversationId: 'c-1',
  sessionVersion,
});

describe('openSessionStore', () => {
  it('R4: keeps the session record and its version across reopening', async () => {
    const name = uniqueName();
    const store = await openSessionStore(name);
    expect(await store.loadState()).toEqual({ sessionVersion: 0, lastClear: { sessionVersion: 0 } });
    await store.saveSession(record(3));
    store.close();
    const reopened = await openSessionStore(name);
    expect(await reopened.loadSession()).toEqual(record(3));
    expect(await reopened.loadState()).toEqual({
      sessionVersion: 3,
      lastClear: { sessionVersion: 0 },
      session: record(3),
    });
    reopened.close();
  });

  it('R7: clearSession deletes the session, cached entries and outbox, and keeps the new version', async () => {
    const store = await openSessionStore(uniqueName());
    await store.saveSession(record(1));
    await store.putEntries([{ conversationId: 'c-1', seq: 1, role: 'user', text: 'hi', createdAt: 1 }]);
    await store.addToOutbox(outboxItem('m-1', 'later'));
    await store.clearSession(2, 'logout');
    expect(await store.loadSession()).toBeUndefined();
    expect(await store.listEntries('c-1', 0)).toEqual([]);
    expect(await store.listOutbox()).toEqual([]);
    expect(await store.loadState()).toEqual({
      sessionVersion: 2,
      lastClear: { sessionVersion: 2, reason: 'logout' },
    });
    store.close();
  });

  it('R7: a database deleted under the open store is reported once, and the next operation works on a fresh one', async () => {
    const name = uniqueName();
    let deletions = 0;
    const store = await openSessionStore(name, { onDeleted: () => deletions++ });
    await store.saveSession(record(4));
    // Another context deletes it (as clearing site data does): the store steps aside at once.
    await new Promise<void>((resolve, reject) => {
      const request = indexedDB.deleteDatabase(name);
      request.onsuccess = () => resolve();
      request.onerror = () => reject(request.error);
      request.onblocked = () => reject(new Error('the store blocked the deletion'));
    });
    expect(deletions).toBe(1);
    expect(await store.loadState()).toEqual({ sessionVersion: 0, lastClear: { sessionVersion: 0 } });
    await store.clearSession(5, 'storage-cleared');
    expect(await store.loadState()).toEqual({
      sessionVersion: 5,
      lastClear: { sessionVersion: 5, reason: 'storage-cleared' },
    });
    expect(deletions).toBe(1);
    store.close();
  });

  it('R12: lists cached entries of one conversation after a sequence number, in order', async () => {
    const store = await openSessionStore(uniqueName());
    const entry = (conversationId: string, seq: number) => ({
      conversationId,
      seq,
      role: 'agent' as const,
      text: `${conversationId}#${seq}`,
      createdAt: seq,
    });
    await store.putEntries([entry('c-1', 3), entry('c-1', 1), entry('c-2', 2), entry('c-1', 2)]);
    expect((await store.listEntries('c-1', 1)).map((e) => e.text)).toEqual(['c-1#2', 'c-1#3']);
    store.close();
  });

  it('R12: the outbox keeps the order messages were added in, each id once, and forgets delivered ones', async () => {
    const store = await openSessionStore(uniqueName());
    // Written in the same millisecond: the order of writing decides, not the time or the id.
    await store.addToOutbox(outboxItem('b', 'first'));
    await store.addToOutbox(outboxItem('a', 'second'));
    const again = await store.addToOutbox(outboxItem('b', 'first, re-sent'));
    expect(again.text).toBe('first');
    expect((await store.listOutbox()).map((m) => m.text)).toEqual(['first', 'second']);
    await store.updateOutbox({
      ...again,
      status: 'failed',
      error: { code: 'ERR_NOT_FOUND', message: 'gone' },
    });
    expect((await store.listOutbox()).map((m) => m.status)).toEqual(['failed', 'pending']);
    await store.removeFromOutbox('b');
    // Rewriting a removed item does not bring it back.
    await store.updateOutbox(again);
    expect((await store.listOutbox()).map((m) => m.text)).toEqual(['second']);
    store.close();
  });

  it('upgrades a database of every older schema version without losing the session', async () => {
    expect(SCHEMA_VERSION).toBe(migrations.length);
    for (let oldVersion = 1; oldVersion < SCHEMA_VERSION; oldVersion++) {
      const name = uniqueName();
      const old = await openDatabase(name, oldVersion);
      await old.put('session', record(7), 'current');
      await old.put('meta', 7, 'sessionVersion');
      old.close();
      const store = await openSessionStore(name);
      expect(await store.loadSession()).toEqual(record(7));
      expect((await store.loadState()).sessionVersion).toBe(7);
      await store.addToOutbox(outboxItem('m', 'works'));
      expect(await store.listOutbox()).toHaveLength(1);
      store.close();
    }
  });

  it('R10: an upgrade blocked by an older connection that does not step aside says so, and completes once it closes', async () => {
    const name = uniqueName();
    // An old release's connection: it ignores the request to close.
    // The previous release's schema: every migration but the last.
    const old = await openDB(name, SCHEMA_VERSION - 1, {
      upgrade: (db) => {
        for (const migrate of migrations.slice(0, -1)) migrate(db as Parameters<typeof migrate>[0]);
      },
    });
    const blocked: boolean[] = [];
    const opening = openSessionStore(name, { onBlocked: (now) => blocked.push(now) });
    await expect.poll(() => blocked).toEqual([true]);
    old.close();
    const store = await opening;
    expect(blocked).toEqual([true, false]);
    expect((await store.loadState()).sessionVersion).toBe(0);
    store.close();
  });

  it('R10: a connection of this release steps aside for a newer one; its next operation fails ERR_STORAGE, not a closed connection', async () => {
    const name = uniqueName();
    const store = await openSessionStore(name);
    const newer = await openDatabase(name, SCHEMA_VERSION + 1);
    await expect(store.loadState()).rejects.toMatchObject({ code: 'ERR_STORAGE', message: /newer release/ });
    newer.close();
    store.close();
  });
});

function outboxItem(clientMessageId: string, text: string): OutboxItem {
  return { clientMessageId, conversationId: 'c-1', text, createdAt: 1, clearedVersion: 0, status: 'pending' };
}
