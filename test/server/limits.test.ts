import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apiPaths } from '../../src/core/server-api.ts';
import { createHarness, exchange, openEvents, request, signIn } from './helpers.ts';

let harness: Awaited<ReturnType<typeof createHarness>>;
beforeEach(async () => {
  harness = await createHarness();
});
afterEach(async () => {
  await harness.cleanup();
});

/** Resolves once `server.openStreams` is `count`; rejects after `timeoutMs`. */
async function streamsBecome(server: { openStreams: number }, count: number, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (server.openStreams !== count) {
    if (Date.now() > deadline) throw new Error(`open streams stayed ${server.openStreams}, not ${count}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('limits that protect an instance', () => {
  it('caps the event streams one access token holds: 429 ERR_TOO_MANY_STREAMS past it, room again once one closes', async () => {
    const server = await harness.start({ streamsPerAccessToken: 2 });
    const { accessToken, conversationId } = await signIn(server, harness.idp, 'alice');
    const first = await openEvents(server, conversationId, accessToken);
    const second = await openEvents(server, conversationId, accessToken);
    const refused = await request(server, 'GET', apiPaths.events(conversationId), { accessToken });
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('ERR_TOO_MANY_STREAMS');
    expect(refused.headers.get('retry-after')).toBe('1');
    // Another token of the same subject has its own allowance.
    const other = await exchange(server, await harness.idp.mint({ sub: 'alice' }));
    const third = await openEvents(server, conversationId, other.accessToken);
    expect(third.response.status).toBe(200);

    first.close();
    await streamsBecome(server, 2);
    const again = await openEvents(server, conversationId, accessToken);
    expect(again.response.status).toBe(200);
    for (const events of [second, third, again]) events.close();
  });

  it('refuses a Last-Event-ID beyond the conversation’s last entry with 400 ERR_LAST_EVENT_ID_AHEAD', async () => {
    const server = await harness.start({ agentReplyDelayMs: 60_000 });
    const { accessToken, conversationId } = await signIn(server, harness.idp, 'alice');
    const ahead = await request(server, 'GET', apiPaths.events(conversationId), {
      accessToken,
      headers: { 'last-event-id': '999999' },
    });
    expect(ahead.status).toBe(400);
    expect(ahead.body.code).toBe('ERR_LAST_EVENT_ID_AHEAD');

    await request(server, 'POST', apiPaths.messages(conversationId), {
      accessToken,
      body: { clientMessageId: 'm1', text: 'one' },
    });
    const justAhead = await request(server, 'GET', apiPaths.events(conversationId), {
      accessToken,
      headers: { 'last-event-id': '2' },
    });
    expect(justAhead.body.code).toBe('ERR_LAST_EVENT_ID_AHEAD');
    // The last entry's own id is where a caught-up client resumes: accepted, and it loses nothing.
    const resumed = await openEvents(server, conversationId, accessToken, 1);
    expect(resumed.response.status).toBe(200);
    await request(server, 'POST', apiPaths.messages(conversationId), {
      accessToken,
      body: { clientMessageId: 'm2', text: 'two' },
    });
    expect((await resumed.nextEntry()).seq).toBe(2);
    resumed.close();
  });

  it('R12: a reused client message id with a different text is 409 ERR_MESSAGE_ID_REUSED and changes nothing', async () => {
    const server = await harness.start({ agentReplyDelayMs: 60_000 });
    const { accessToken, conversationId } = await signIn(server, harness.idp, 'alice');
    const first = await request(server, 'POST', apiPaths.messages(conversationId), {
      accessToken,
      body: { clientMessageId: 'm1', text: 'original' },
    });
    expect(first.status).toBe(201);
    const reused = await request(server, 'POST', apiPaths.messages(conversationId), {
      accessToken,
      body: { clientMessageId: 'm1', text: 'something else' },
    });
    expect(reused.status).toBe(409);
    expect(reused.body.code).toBe('ERR_MESSAGE_ID_REUSED');
    // The retry of the original still gets its answer.
    const retried = await request(server, 'POST', apiPaths.messages(conversationId), {
      accessToken,
      body: { clientMessageId: 'm1', text: 'original' },
    });
    expect(retried.status).toBe(200);
    expect(retried.body.entry).toEqual(first.body.entry);
    const { body } = await request(server, 'GET', apiPaths.entries(conversationId), { accessToken });
    expect(body.entries.map((e: { text: string }) => e.text)).toEqual(['original']);
  });
});
