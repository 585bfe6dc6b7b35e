import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createConversationClient } from '../../src/core/conversation-client.ts';
import { apiPaths } from '../../src/core/server-api.ts';
import { ManualClock } from '../../src/testing/index.ts';
import { createHarness, exchange, openEvents, request, signIn } from './helpers.ts';

let harness: Awaited<ReturnType<typeof createHarness>>;
beforeEach(async () => {
  harness = await createHarness();
});
afterEach(async () => {
  await harness.cleanup();
});

describe('conversations', () => {
  it('create-or-resume returns the same open conversation twice (201, then 200)', async () => {
    const server = await harness.start();
    const { accessToken } = await exchange(server, await harness.idp.mint({ sub: 'alice' }));
    const first = await request(server, 'POST', apiPaths.conversations, { accessToken });
    const second = await request(server, 'POST', apiPaths.conversations, { accessToken });
    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    expect(first.body).toEqual({ conversationId: expect.any(String), status: 'open' });
    expect(second.body).toEqual(first.body);
    // Another access token of the same subject resumes it too.
    const again = await exchange(server, await harness.idp.mint({ sub: 'alice' }));
    const third = await request(server, 'POST', apiPaths.conversations, { accessToken: again.accessToken });
    expect(third.body.conversationId).toBe(first.body.conversationId);
  });

  it('R12: a message posted twice with the same client message id is stored once', async () => {
    const server = await harness.start({ agentReplyDelayMs: 60_000 });
    const { accessToken, conversationId } = await signIn(server, harness.idp, 'alice');
    const message = { clientMessageId: 'msg-1', text: 'Hello' };
    const first = await request(server, 'POST', apiPaths.messages(conversationId), {
      accessToken,
      body: message,
    });
    const second = await request(server, 'POST', apiPaths.messages(conversationId), {
      accessToken,
      body: message,
    });
    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    expect(first.body.entry).toEqual({
      conversationId,
      seq: 1,
      role: 'user',
      text: 'Hello',
      createdAt: expect.any(Number),
      clientMessageId: 'msg-1',
    });
    expect(second.body.entry).toEqual(first.body.entry);
    const { body } = await request(server, 'GET', `${apiPaths.entries(conversationId)}?after=0`, {
      accessToken,
    });
    expect(body.entries).toEqual([first.body.entry]);
  });

  it('lists entries after a sequence number', async () => {
    const server = await harness.start({ agentReplyDelayMs: 60_000 });
    const { accessToken, conversationId } = await signIn(server, harness.idp, 'alice');
    for (const n of [1, 2, 3]) {
      await request(server, 'POST', apiPaths.messages(conversationId), {
        accessToken,
        body: { clientMessageId: `m${n}`, text: `message ${n}` },
      });
    }
    const all = await request(server, 'GET', apiPaths.entries(conversationId), { accessToken });
    expect(all.body.entries.map((e: { seq: number }) => e.seq)).toEqual([1, 2, 3]);
    const after = await request(server, 'GET', `${apiPaths.entries(conversationId)}?after=2`, {
      accessToken,
    });
    expect(after.body.entries.map((e: { text: string }) => e.text)).toEqual(['message 3']);
    const bad = await request(server, 'GET', `${apiPaths.entries(conversationId)}?after=-1`, { accessToken });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('ERR_INVALID_ARGUMENT');
  });

  it("works with core's conversation client end to end", async () => {
    const server = await harness.start({ agentReplyDelayMs: 60_000 });
    const { accessToken } = await exchange(server, await harness.idp.mint({ sub: 'alice' }));
    const client = createConversationClient({ baseUrl: server.url });
    const { conversationId, status } = await client.open(accessToken);
    expect(status).toBe('open');
    const entry = await client.postMessage(accessToken, conversationId, {
      clientMessageId: 'c1',
      text: 'hi',
    });
    expect(entry.seq).toBe(1);
    expect(await client.listEntries(accessToken, conversationId, 0)).toEqual([entry]);
    await client.end(accessToken, conversationId);
    expect((await client.open(accessToken)).conversationId).not.toBe(conversationId);
  });

  it('ending a conversation appends a closing entry, refuses new messages with 409, and the next open starts fresh', async () => {
    const server = await harness.start({ agentReplyDelayMs: 60_000 });
    const { accessToken, conversationId } = await signIn(server, harness.idp, 'alice');
    await request(server, 'POST', apiPaths.messages(conversationId), {
      accessToken,
      body: { clientMessageId: 'before', text: 'before the end' },
    });
    const ended = await request(server, 'POST', apiPaths.end(conversationId), { accessToken });
    expect(ended.status).toBe(200);
    expect(ended.body).toEqual({ conversationId, status: 'ended' });
    expect((await request(server, 'POST', apiPaths.end(conversationId), { accessToken })).status).toBe(200);

    const { body } = await request(server, 'GET', apiPaths.entries(conversationId), { accessToken });
    expect(body.entries.map((e: { role: string }) => e.role)).toEqual(['user', 'system']);
    const late = await request(server, 'POST', apiPaths.messages(conversationId), {
      accessToken,
      body: { clientMessageId: 'late', text: 'too late' },
    });
    expect(late.status).toBe(409);
    expect(late.body.code).toBe('ERR_CONVERSATION_ENDED');
    // A retried delivery of a message stored before the end still gets its answer.
    const retried = await request(server, 'POST', apiPaths.messages(conversationId), {
      accessToken,
      body: { clientMessageId: 'before', text: 'before the end' },
    });
    expect(retried.status).toBe(200);

    const next = await request(server, 'POST', apiPaths.conversations, { accessToken });
    expect(next.status).toBe(201);
    expect(next.body.conversationId).not.toBe(conversationId);
  });

  it('subject A can neither read, post to, stream nor end subject B’s conversation (404 ERR_NOT_FOUND)', async () => {
    const server = await harness.start({ agentReplyDelayMs: 60_000 });
    const bob = await signIn(server, harness.idp, 'bob');
    await request(server, 'POST', apiPaths.messages(bob.conversationId), {
      accessToken: bob.accessToken,
      body: { clientMessageId: 'b1', text: 'private to bob' },
    });
    const alice = await signIn(server, harness.idp, 'alice');
    expect(alice.conversationId).not.toBe(bob.conversationId);

    const attempts = [
      request(server, 'GET', apiPaths.entries(bob.conversationId), { accessToken: alice.accessToken }),
      request(server, 'POST', apiPaths.messages(bob.conversationId), {
        accessToken: alice.accessToken,
        body: { clientMessageId: 'a1', text: 'intrusion' },
      }),
      request(server, 'GET', apiPaths.events(bob.conversationId), { accessToken: alice.accessToken }),
      request(server, 'POST', apiPaths.end(bob.conversationId), { accessToken: alice.accessToken }),
    ];
    for (const { status, body } of await Promise.all(attempts)) {
      expect(status).toBe(404);
      expect(body.code).toBe('ERR_NOT_FOUND');
    }
    const { body } = await request(server, 'GET', apiPaths.entries(bob.conversationId), {
      accessToken: bob.accessToken,
    });
    expect(body.entries.map((e: { text: string }) => e.text)).toEqual(['private to bob']);
    const unknown = await request(server, 'GET', apiPaths.entries('not-a-conversation'), {
      accessToken: alice.accessToken,
    });
    expect(unknown.status).toBe(404);
  });
});

describe('server-sent events', () => {
  it('streams the user message and the demo agent’s reply, with id = seq', async () => {
    const server = await harness.start({ agentReplyDelayMs: 10 });
    const { accessToken, conversationId } = await signIn(server, harness.idp, 'alice');
    const events = await openEvents(server, conversationId, accessToken);
    expect(events.response.status).toBe(200);
    expect(events.response.headers.get('content-type')).toContain('text/event-stream');
    expect(events.response.headers.get('cache-control')).toBe('no-store');

    await request(server, 'POST', apiPaths.messages(conversationId), {
      accessToken,
      body: { clientMessageId: 'm1', text: 'Is anyone there?' },
    });
    const mine = await events.next();
    expect(mine).toMatchObject({
      id: '1',
      event: 'entry',
      data: { seq: 1, role: 'user', text: 'Is anyone there?' },
    });
    const reply = await events.next();
    expect(reply?.id).toBe('2');
    expect(reply?.data).toMatchObject({ conversationId, seq: 2, role: 'agent' });
    expect(reply?.data.text).toContain('Is anyone there?');
    events.close();
  });

  it('Last-Event-ID resumes without loss or duplicates', async () => {
    const server = await harness.start({ agentReplyDelayMs: 10 });
    const { accessToken, conversationId } = await signIn(server, harness.idp, 'alice');
    const first = await openEvents(server, conversationId, accessToken);
    await request(server, 'POST', apiPaths.messages(conversationId), {
      accessToken,
      body: { clientMessageId: 'm1', text: 'one' },
    });
    const seen = [await first.nextEntry(), await first.nextEntry()]; // message 1 and its reply
    first.close();

    // While disconnected: two more messages, and their replies.
    for (const n of [2, 3]) {
      await request(server, 'POST', apiPaths.messages(conversationId), {
        accessToken,
        body: { clientMessageId: `m${n}`, text: `message ${n}` },
      });
    }
    const lastEventId = seen.at(-1)?.seq ?? 0;
    const resumed = await openEvents(server, conversationId, accessToken, lastEventId);
    const after: number[] = [];
    while (after.length < 4) after.push((await resumed.nextEntry()).seq);
    expect(after).toEqual([3, 4, 5, 6]);
    // Live entries follow the backlog seamlessly.
    await request(server, 'POST', apiPaths.messages(conversationId), {
      accessToken,
      body: { clientMessageId: 'm4', text: 'live' },
    });
    expect((await resumed.nextEntry()).seq).toBe(7);
    expect((await resumed.nextEntry()).seq).toBe(8);
    resumed.close();

    const { body } = await request(server, 'GET', apiPaths.entries(conversationId), { accessToken });
    expect(body.entries.map((e: { seq: number }) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('sends "end" and closes when the conversation ends', async () => {
    const server = await harness.start({ agentReplyDelayMs: 60_000 });
    const { accessToken, conversationId } = await signIn(server, harness.idp, 'alice');
    const events = await openEvents(server, conversationId, accessToken);
    await request(server, 'POST', apiPaths.end(conversationId), { accessToken });
    expect(await events.next()).toMatchObject({ event: 'entry', data: { role: 'system' } });
    expect(await events.next()).toMatchObject({ event: 'end' });
    expect(await events.next()).toBeUndefined();
    expect(server.openStreams).toBe(0);
  });

  it('R7: revoking the access token ends its streams with "unauthorized" ERR_ACCESS_TOKEN_REVOKED', async () => {
    const server = await harness.start();
    const { accessToken, conversationId } = await signIn(server, harness.idp, 'alice');
    const events = await openEvents(server, conversationId, accessToken);
    await request(server, 'POST', '/v1/authorization/revoke', { accessToken });
    expect(await events.next()).toMatchObject({
      event: 'unauthorized',
      data: { code: 'ERR_ACCESS_TOKEN_REVOKED' },
    });
    expect(await events.next()).toBeUndefined();
  });

  it('ends a stream with "unauthorized" ERR_ACCESS_TOKEN_EXPIRED when its access token expires', async () => {
    const clock = new ManualClock(Date.now());
    const server = await harness.start({ clock, accessTokenLifetimeSeconds: 60 });
    const { accessToken } = await exchange(
      server,
      await harness.idp.mint({ sub: 'alice', now: clock.now() }),
    );
    const { body } = await request(server, 'POST', apiPaths.conversations, { accessToken });
    const events = await openEvents(server, body.conversationId, accessToken);
    await clock.advance(60_000);
    expect(await events.next()).toMatchObject({
      event: 'unauthorized',
      data: { code: 'ERR_ACCESS_TOKEN_EXPIRED' },
    });
    expect(await events.next()).toBeUndefined();
  });

  it('sends keep-alive comments on a quiet stream', async () => {
    const server = await harness.start({ sseHeartbeatMs: 20 });
    const { accessToken, conversationId } = await signIn(server, harness.idp, 'alice');
    const events = await openEvents(server, conversationId, accessToken);
    expect(await events.nextComment()).toBe(': keep-alive');
    expect(await events.nextComment()).toBe(': keep-alive');
    events.close();
  });

  it('refuses a malformed Last-Event-ID with 400', async () => {
    const server = await harness.start();
    const { accessToken, conversationId } = await signIn(server, harness.idp, 'alice');
    const { status, body } = await request(server, 'GET', apiPaths.events(conversationId), {
      accessToken,
      headers: { 'last-event-id': 'abc' },
    });
    expect(status).toBe(400);
    expect(body.code).toBe('ERR_INVALID_ARGUMENT');
  });
});
