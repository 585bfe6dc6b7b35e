// R15 scale-out: several server instances on one Postgres database. Postgres only (the
// server-sqlite project excludes this file): SQLite is one instance's embedded store.
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it, inject } from 'vitest';
import type { ConversationEntry } from '../../src/core/protocol.ts';
import { apiPaths } from '../../src/core/server-api.ts';
import { createHarness, exchange, openEvents, request, signIn } from './helpers.ts';

let harness: Awaited<ReturnType<typeof createHarness>>;
beforeEach(async () => {
  harness = await createHarness();
});
afterEach(async () => {
  await harness.cleanup();
});

/** Two instances on the harness's database; the agent stays quiet unless asked. */
async function twoInstances(agentReplyDelayMs = 60_000) {
  const a = await harness.start({ agentReplyDelayMs });
  const b = await harness.start({ agentReplyDelayMs });
  return { a, b };
}

function post(server: { url: string }, accessToken: string, conversationId: string, id: string, text = id) {
  return request(server, 'POST', apiPaths.messages(conversationId), {
    accessToken,
    body: { clientMessageId: id, text },
  });
}

describe('R15: several instances on one Postgres', () => {
  it('a stream on B sees messages posted through A and B, in order, exactly once', async () => {
    const { a, b } = await twoInstances();
    const { accessToken, conversationId } = await signIn(a, harness.idp, 'alice');
    const onB = await openEvents(b, conversationId, accessToken);
    const onA = await openEvents(a, conversationId, accessToken);
    const count = 20;
    // Concurrent posts through both instances: the seqs interleave across them.
    const answers = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        post(i % 2 === 0 ? a : b, accessToken, conversationId, `m${i}`),
      ),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(count).fill(201));
    for (const events of [onA, onB]) {
      const seen: ConversationEntry[] = [];
      for (let i = 0; i < count; i++) seen.push(await events.nextEntry());
      expect(seen.map((entry) => entry.seq)).toEqual(Array.from({ length: count }, (_, i) => i + 1));
      expect(new Set(seen.map((entry) => entry.clientMessageId)).size).toBe(count);
      events.close();
    }
  });

  it('resumes by Last-Event-ID on either instance, losing and doubling nothing', async () => {
    const { a, b } = await twoInstances();
    const { accessToken, conversationId } = await signIn(a, harness.idp, 'alice');
    for (let i = 1; i <= 3; i++) await post(a, accessToken, conversationId, `m${i}`);
    const first = await openEvents(b, conversationId, accessToken);
    expect((await first.nextEntry()).seq).toBe(1);
    first.close();
    for (let i = 4; i <= 5; i++) await post(b, accessToken, conversationId, `m${i}`);
    const resumed = await openEvents(a, conversationId, accessToken, 1);
    const seqs = [];
    for (let i = 0; i < 4; i++) seqs.push((await resumed.nextEntry()).seq);
    expect(seqs).toEqual([2, 3, 4, 5]);
    await post(b, accessToken, conversationId, 'm6');
    expect((await resumed.nextEntry()).seq).toBe(6);
    resumed.close();
  });

  it('R7: a token revoked on A is refused on B at once, and its stream on B ends "unauthorized"', async () => {
    const { a, b } = await twoInstances();
    const { accessToken, conversationId } = await signIn(a, harness.idp, 'alice');
    const onB = await openEvents(b, conversationId, accessToken);
    expect((await request(a, 'POST', '/v1/authorization/revoke', { accessToken })).status).toBe(200);
    const refused = await request(b, 'POST', apiPaths.conversations, { accessToken });
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe('ERR_ACCESS_TOKEN_REVOKED');
    const event = await onB.next();
    expect(event).toEqual({ event: 'unauthorized', data: { code: 'ERR_ACCESS_TOKEN_REVOKED' } });
    expect(await onB.next()).toBeUndefined();
  });

  it('instances share one signing secret, even when they start together on an empty database', async () => {
    const database = await harness.newDatabase('together');
    const [a, b] = await Promise.all([harness.start({ database }), harness.start({ database })]);
    const store = await harness.openStore(database);
    expect(await store.signingKeys()).toHaveLength(1);
    await store.close();
    const fromA = await exchange(a!, await harness.idp.mint({ sub: 'alice' }));
    const fromB = await exchange(b!, await harness.idp.mint({ sub: 'bob' }));
    expect(
      (await request(b!, 'POST', apiPaths.conversations, { accessToken: fromA.accessToken })).status,
    ).toBe(201);
    expect(
      (await request(a!, 'POST', apiPaths.conversations, { accessToken: fromB.accessToken })).status,
    ).toBe(201);
  });

  it('an entry too large for a NOTIFY payload reaches the other instance’s stream whole', async () => {
    const { a, b } = await twoInstances();
    const { accessToken, conversationId } = await signIn(a, harness.idp, 'alice');
    const onB = await openEvents(b, conversationId, accessToken);
    // 4000 characters of 4 bytes each: 16 kB, twice what a notification may carry.
    const text = '😀'.repeat(4000);
    expect((await post(a, accessToken, conversationId, 'big', text)).status).toBe(201);
    await post(a, accessToken, conversationId, 'small');
    const big = await onB.nextEntry();
    expect({ seq: big.seq, same: big.text === text }).toEqual({ seq: 1, same: true });
    expect((await onB.nextEntry()).clientMessageId).toBe('small');
    onB.close();
  });

  it('ending the conversation on A ends the stream on B after the closing entry; the agent’s reply on A reaches B', async () => {
    const { a, b } = await twoInstances(20);
    const { accessToken, conversationId } = await signIn(a, harness.idp, 'alice');
    const onB = await openEvents(b, conversationId, accessToken);
    await post(a, accessToken, conversationId, 'hello');
    expect((await onB.nextEntry()).role).toBe('user');
    expect((await onB.nextEntry()).role).toBe('agent');
    await request(a, 'POST', apiPaths.end(conversationId), { accessToken });
    expect((await onB.nextEntry()).role).toBe('system');
    expect((await onB.next())?.event).toBe('end');
    expect(await onB.next()).toBeUndefined();
  });

  it('a lost LISTEN connection is reopened and its streams catch up on what they missed', async () => {
    // Named, so only this test's connections are cut (other test files share the cluster).
    const database = new URL(harness.database);
    const name = `listen-loss-${process.pid}-${Date.now()}`;
    database.searchParams.set('application_name', name);
    const a = await harness.start({ database: database.toString(), agentReplyDelayMs: 60_000 });
    const b = await harness.start({ database: database.toString(), agentReplyDelayMs: 60_000 });
    const { accessToken, conversationId } = await signIn(a, harness.idp, 'alice');
    const onB = await openEvents(b, conversationId, accessToken);
    await post(a, accessToken, conversationId, 'before');
    expect((await onB.nextEntry()).seq).toBe(1);
    // Cut both instances' listening connections, as a failover would.
    const admin = new pg.Client({ connectionString: inject('postgresAdminUrl') });
    await admin.connect();
    const { rowCount } = await admin.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND query = 'LISTEN tabwarden_events'",
      [name],
    );
    await admin.end();
    expect(rowCount).toBe(2);
    for (let i = 2; i <= 4; i++) await post(a, accessToken, conversationId, `after-${i}`);
    const seqs = [];
    for (let i = 0; i < 3; i++) seqs.push((await onB.nextEntry(10_000)).seq);
    expect(seqs).toEqual([2, 3, 4]);
    onB.close();
  });
});
