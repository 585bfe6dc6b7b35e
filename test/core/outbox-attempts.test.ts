// R12's Outbox on its own, its requests answered by the test one at a time: which attempt
// decides what a send answers. The engine-level behaviour is in outbox.test.ts.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TabwardenError } from '../../src/core/errors.ts';
import { Outbox } from '../../src/core/outbox.ts';
import type { ConversationEntry } from '../../src/core/protocol.ts';
import { openSessionStore, type OutboxItem, type SessionStore } from '../../src/core/store.ts';
import { ManualClock } from '../../src/testing/manual-clock.ts';

/** One request of the outbox, on the wire until the test answers it. */
interface Post {
  item: OutboxItem;
  deliver(): void;
  fail(error: TabwardenError): void;
}

let store: SessionStore | undefined;
afterEach(() => store?.close());

/** An outbox whose posts wait for the test, and a way to take the next one as it goes out. */
async function outboxUnderControl() {
  store = await openSessionStore(`outbox-attempts-${crypto.randomUUID()}`);
  const clock = new ManualClock(0);
  const sent: Post[] = [];
  const waiting: Array<(post: Post) => void> = [];
  let seq = 0;
  const outbox = new Outbox({
    store,
    clock,
    post: (item) =>
      new Promise<ConversationEntry>((resolve, reject) => {
        const post: Post = {
          item,
          deliver: () =>
            resolve({
              seq: ++seq,
              role: 'user',
              text: item.text,
              clientMessageId: item.clientMessageId,
              conversationId: item.conversationId,
              createdAt: item.createdAt,
            } as ConversationEntry),
          fail: reject,
        };
        const taker = waiting.shift();
        if (taker) taker(post);
        else sent.push(post);
      }),
    belongs: () => true,
    changed: () => {},
    delivered: () => {},
    connectivity: () => {},
  });
  const nextPost = () =>
    new Promise<Post>((resolve) => {
      const post = sent.shift();
      if (post) resolve(post);
      else waiting.push(resolve);
    });
  const item = (text: string): OutboxItem => ({
    clientMessageId: text,
    conversationId: 'c-1',
    text,
    createdAt: clock.now(),
    clearedVersion: 0,
    status: 'pending',
  });
  return { outbox, nextPost, item };
}

const serverError = () => new TabwardenError('ERR_SERVER', 'The server answered 500', { status: 500 });

describe('R12 outbox: the attempt that answers a send', () => {
  it('R12: a send written while an older attempt is on the wire is answered by an attempt made after it, not by that one failing', async () => {
    const { outbox, nextPost, item } = await outboxUnderControl();
    const first = outbox.add(item('while failing'));
    const failed = await nextPost();
    failed.fail(serverError());
    expect(await first).toMatchObject({ kind: 'pending' });

    // Another attempt at it goes out (Background Sync, a retry) while the server still fails...
    void outbox.deliver();
    const stale = await nextPost();
    expect(stale.item.text).toBe('while failing');
    // ... the server is back, and the next send is written while that attempt is on the wire.
    const deliver = vi.spyOn(outbox, 'deliver');
    const second = outbox.add(item('once back'));
    await vi.waitFor(() => expect(deliver).toHaveBeenCalled());
    // The 500 the server gave before it was back comes in only now.
    stale.fail(serverError());

    // The next send's own attempt: the one waiting goes first, then it; both are stored.
    const retried = await nextPost();
    expect(retried.item.text).toBe('while failing');
    retried.deliver();
    const own = await nextPost();
    expect(own.item.text).toBe('once back');
    own.deliver();
    expect(await second).toMatchObject({ kind: 'delivered', entry: { text: 'once back' } });
    expect(await outbox.list()).toEqual([]);
  });
});
