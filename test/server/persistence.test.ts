import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apiPaths } from '../../src/core/server-api.ts';
import { POSTGRES_SCHEMA_VERSION } from '../../src/server/postgres-store.ts';
import { SQLITE_SCHEMA_VERSION } from '../../src/server/sqlite-store.ts';
import { createHarness, exchange, openEvents, request, signIn, testStore } from './helpers.ts';

let harness: Awaited<ReturnType<typeof createHarness>>;
beforeEach(async () => {
  harness = await createHarness();
});
afterEach(async () => {
  await harness.cleanup();
});

describe('restart on the same database file', () => {
  it('keeps conversations, entries, revocations and the signing key', async () => {
    const database = await harness.newDatabase('restart');
    const before = await harness.start({ database });
    const { accessToken, conversationId } = await signIn(before, harness.idp, 'alice');
    const events = await openEvents(before, conversationId, accessToken);
    await request(before, 'POST', apiPaths.messages(conversationId), {
      accessToken,
      body: { clientMessageId: 'm1', text: 'remember me' },
    });
    await events.nextEntry();
    const reply = await events.nextEntry(); // the agent's answer is stored too
    expect(reply.role).toBe('agent');
    const kept = await exchange(before, await harness.idp.mint({ sub: 'alice' }));
    await request(before, 'POST', '/v1/authorization/revoke', { accessToken });
    await before.close();

    const after = await harness.start({ database });
    const revoked = await request(after, 'POST', apiPaths.conversations, { accessToken });
    expect(revoked.status).toBe(401);
    expect(revoked.body.code).toBe('ERR_ACCESS_TOKEN_REVOKED');
    // An unrevoked token issued before the restart still works: the signing key was kept.
    const resumed = await request(after, 'POST', apiPaths.conversations, { accessToken: kept.accessToken });
    expect(resumed.status).toBe(200);
    expect(resumed.body).toEqual({ conversationId, status: 'open' });
    const { body } = await request(after, 'GET', apiPaths.entries(conversationId), {
      accessToken: kept.accessToken,
    });
    expect(body.entries.map((e: { seq: number; role: string }) => [e.seq, e.role])).toEqual([
      [1, 'user'],
      [2, 'agent'],
    ]);
    // Idempotency survives the restart as well.
    const again = await request(after, 'POST', apiPaths.messages(conversationId), {
      accessToken: kept.accessToken,
      body: { clientMessageId: 'm1', text: 'remember me' },
    });
    expect(again.status).toBe(200);
    expect(again.body.entry.seq).toBe(1);
  });
});

/** Reads or writes the store's schema version, as SQLite or Postgres keeps it. */
async function schemaVersion(database: string, set?: number): Promise<number | undefined> {
  if (testStore === 'sqlite') {
    const db = new Database(database);
    try {
      if (set !== undefined) db.pragma(`user_version = ${set}`);
      return db.pragma('user_version', { simple: true }) as number;
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: database });
  await client.connect();
  try {
    if (set !== undefined) {
      await client.query('CREATE TABLE IF NOT EXISTS tabwarden_schema (version INTEGER NOT NULL)');
      await client.query('INSERT INTO tabwarden_schema (version) VALUES ($1)', [set]);
    }
    const { rows } = await client.query<{ version: number }>('SELECT version FROM tabwarden_schema');
    return rows[0]?.version;
  } finally {
    await client.end();
  }
}

const SCHEMA_VERSION = testStore === 'sqlite' ? SQLITE_SCHEMA_VERSION : POSTGRES_SCHEMA_VERSION;

describe('store', () => {
  it('records its schema version; opening again migrates nothing and loses nothing', async () => {
    const database = await harness.newDatabase('version');
    const store = await harness.openStore(database);
    await store.openConversation({ iss: 'https://idp', sub: 'alice' }, Date.now());
    await store.close();
    expect(await schemaVersion(database)).toBe(SCHEMA_VERSION);
    const again = await harness.openStore(database);
    expect((await again.openConversation({ iss: 'https://idp', sub: 'alice' }, Date.now())).created).toBe(
      false,
    );
    await again.close();
  });

  it('refuses a database written by a newer server', async () => {
    const database = await harness.newDatabase('newer');
    await schemaVersion(database, SCHEMA_VERSION + 1);
    await expect(harness.openStore(database)).rejects.toThrow(/schema version/);
  });

  it('keeps one open conversation per subject even when opened concurrently', async () => {
    const server = await harness.start();
    const { accessToken } = await exchange(server, await harness.idp.mint({ sub: 'alice' }));
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => request(server, 'POST', apiPaths.conversations, { accessToken })),
    );
    expect(new Set(answers.map((a) => a.body.conversationId)).size).toBe(1);
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
  });

  it('assigns gap-free sequence numbers to concurrent posts, one per client message id', async () => {
    const server = await harness.start({ agentReplyDelayMs: 60_000 });
    const { accessToken, conversationId } = await signIn(server, harness.idp, 'alice');
    const posts = Array.from({ length: 20 }, (_, i) =>
      request(server, 'POST', apiPaths.messages(conversationId), {
        accessToken,
        body: { clientMessageId: `m${i % 10}`, text: `message ${i % 10}` },
      }),
    );
    await Promise.all(posts);
    const { body } = await request(server, 'GET', apiPaths.entries(conversationId), { accessToken });
    expect(body.entries.map((e: { seq: number }) => e.seq)).toEqual(
      Array.from({ length: 10 }, (_, i) => i + 1),
    );
  });
});

// A property of SQLite only; Postgres's durability is its own configuration.
if (testStore === 'sqlite') {
  describe('SQLite durability', () => {
    it('runs in WAL mode with synchronous=NORMAL by default, FULL when asked', async () => {
      const { openSqliteStore } = await import('../../src/server/sqlite-store.ts');
      const file = await harness.newDatabase('durability');
      for (const [synchronous, level] of [
        [undefined, 1],
        ['full', 2],
      ] as const) {
        const store = openSqliteStore(file, synchronous === undefined ? {} : { synchronous });
        // Per connection, so read through the store's own.
        expect(store.pragma('synchronous')).toBe(level);
        expect(store.pragma('journal_mode')).toBe('wal');
        await store.close();
      }
    });
  });
}
