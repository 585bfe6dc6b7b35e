import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apiPaths } from '../../src/core/server-api.ts';
import { STORE_SCHEMA_VERSION, openServerStore } from '../../src/server/store.ts';
import { createHarness, exchange, openEvents, request, signIn } from './helpers.ts';

let harness: Awaited<ReturnType<typeof createHarness>>;
beforeEach(async () => {
  harness = await createHarness();
});
afterEach(async () => {
  await harness.cleanup();
});

describe('restart on the same database file', () => {
  it('keeps conversations, entries, revocations and the signing key', async () => {
    const database = join(harness.dir, 'restart.sqlite');
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

describe('store', () => {
  it('uses WAL mode and records its schema version', () => {
    const file = join(harness.dir, 'wal.sqlite');
    openServerStore(file).close();
    const db = new Database(file, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(STORE_SCHEMA_VERSION);
    db.close();
    // Opening again migrates nothing and loses nothing.
    openServerStore(file).close();
  });

  it('refuses a database written by a newer server', () => {
    const file = join(harness.dir, 'newer.sqlite');
    const db = new Database(file);
    db.pragma(`user_version = ${STORE_SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => openServerStore(file)).toThrow(/schema version/);
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
