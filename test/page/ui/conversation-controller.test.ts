// The chat panel's conversation without its DOM (src/page/ui/conversation-controller.ts), over a
// client the test scripts: what no e2e run can time, and every rule the panel shows.
import { describe, expect, it, vi } from 'vitest';
import type { ErrorCode } from '../../../src/core/errors.ts';
import type { ConversationEntry, OutboxMessage, SentMessage } from '../../../src/core/protocol.ts';
import {
  ConversationController,
  type ConversationState,
} from '../../../src/page/ui/conversation-controller.ts';
import type { TabwardenLike } from '../../../src/page/ui/tabwarden-like.ts';
import { ManualClock } from '../../../src/testing/manual-clock.ts';

const NOW = Date.parse('2030-01-01T00:00:00Z');

function entry(
  seq: number,
  role: ConversationEntry['role'] = 'agent',
  conversationId = 'c-1',
): ConversationEntry {
  return { conversationId, seq, role, text: `text ${seq}`, createdAt: NOW, clientMessageId: `m-${seq}` };
}

function queued(id: string, status: OutboxMessage['status'] = 'pending', code?: ErrorCode): OutboxMessage {
  return {
    status,
    clientMessageId: id,
    conversationId: 'c-1',
    role: 'user',
    text: `queued ${id}`,
    createdAt: NOW,
    ...(code ? { error: { code, message: 'refused' } } : {}),
  };
}

function refusal(code: string): Error {
  return Object.assign(new Error('refused'), { code });
}

/** A promise the test settles by hand. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A client that answers at once (conversation `c-1`, no entries, empty outbox) unless told otherwise. */
function fakeClient() {
  const client = Object.assign(new EventTarget(), {
    state: { verified: true } as { verified: boolean; conversationId?: string; graceDeadline?: number },
    online: undefined as boolean | undefined,
    startConversation: vi.fn(async () => ({ conversationId: 'c-1' })),
    listEntries: vi.fn(async (_afterSeq?: number): Promise<ConversationEntry[]> => []),
    listOutbox: vi.fn(async (): Promise<OutboxMessage[]> => []),
    sendMessage: vi.fn(async (text: string): Promise<SentMessage> => ({ ...entry(1, 'user'), text })),
    retryMessage: vi.fn(async (_id: string) => undefined),
    discardMessage: vi.fn(async (_id: string) => undefined),
    watchEntries: vi.fn((_afterSeq?: number) => () => undefined),
  });
  const emit = (type: string, detail: unknown) => client.dispatchEvent(new CustomEvent(type, { detail }));
  return { client, tw: client as unknown as TabwardenLike, emit };
}

/** A controller over a fake client, with a view that records what it was told. */
function setUp(options: { browserOnline?: () => boolean } = {}) {
  const fake = fakeClient();
  const clock = new ManualClock(NOW);
  const view = {
    last: undefined as ConversationState | undefined,
    renders: 0,
    announced: [] as string[],
    cleared: 0,
  };
  const controller = new ConversationController(
    fake.tw,
    {
      render: (state) => {
        view.last = state;
        view.renders += 1;
      },
      announce: (text) => view.announced.push(text),
      cleared: () => (view.cleared += 1),
      online: options.browserOnline ?? (() => true),
    },
    clock,
  );
  controller.connect();
  /** What the view shows now: the last state it was given. */
  const shown = () => {
    if (!view.last) throw new Error('nothing rendered yet');
    return view.last;
  };
  return { ...fake, clock, view, controller, shown };
}

describe('ConversationController', () => {
  describe('start (R4)', () => {
    it('R4: opening starts the session once, says so meanwhile, then loads history and outbox once each', async () => {
      const { client, controller, shown } = setUp();
      const start = deferred<{ conversationId: string }>();
      client.startConversation.mockReturnValueOnce(start.promise);
      client.listEntries.mockResolvedValueOnce([entry(2), entry(1, 'user')]);
      client.listOutbox.mockResolvedValueOnce([queued('q-1')]);

      const opened = controller.open();
      void controller.open();
      expect(client.startConversation).toHaveBeenCalledTimes(1);
      expect(shown().status).toBe('Starting the conversation…');
      expect(shown().loaded).toBe(false);

      start.resolve({ conversationId: 'c-1' });
      await opened;
      expect(shown().status).toBe('');
      expect(client.listEntries).toHaveBeenCalledWith(0);
      expect(client.listEntries).toHaveBeenCalledTimes(1);
      expect(client.listOutbox).toHaveBeenCalledTimes(1);
      expect(shown().entries.map((e) => e.seq)).toEqual([1, 2]);
      expect(shown().outbox.map((m) => m.clientMessageId)).toEqual(['q-1']);
      expect(shown().loaded).toBe(true);
      expect(client.watchEntries).toHaveBeenCalledTimes(2);
    });

    it('R4/R7: a start from before a clear, ending late, does not let a third start run beside the second', async () => {
      const { client, emit, controller } = setUp();
      const starts: Array<ReturnType<typeof deferred<{ conversationId: string }>>> = [];
      client.startConversation.mockImplementation(() => {
        starts.push(deferred());
        return starts.at(-1)!.promise;
      });

      const first = controller.open();
      expect(starts).toHaveLength(1);
      emit('session-cleared', { reason: 'logout' });
      void controller.open();
      expect(starts).toHaveLength(2);

      // The first start answers after the clear: when it has ended, it must not have forgotten
      // the second, still running.
      starts[0]!.resolve({ conversationId: 'c-old' });
      await first;
      controller.close();
      void controller.open();
      expect(starts).toHaveLength(2);
    });

    it('R4: a failed start shows why, with its code, and keeps the session the worker holds', async () => {
      const { client, controller, shown } = setUp();
      // Offline: the worker still holds the session it started before.
      client.state.conversationId = 'c-1';
      client.startConversation.mockRejectedValueOnce(refusal('ERR_NETWORK'));
      client.listOutbox.mockResolvedValueOnce([queued('q-1')]);

      await controller.open();
      expect(shown().error).toContain('(ERR_NETWORK)');
      expect(shown().status).toBe('');
      await vi.waitFor(() => expect(shown().outbox.map((m) => m.clientMessageId)).toEqual(['q-1']));
    });
  });

  describe('entries', () => {
    it('merges entries from the stream, a poll and a send once each, in order, and only this conversation', async () => {
      const { client, emit, controller, shown } = setUp();
      await controller.open();
      emit('entries', { entries: [entry(3), entry(1, 'user'), entry(9, 'agent', 'c-other')] });
      emit('message-delivered', { entry: entry(1, 'user') });
      client.listEntries.mockResolvedValueOnce([entry(2), entry(3)]);
      await controller.refresh();
      expect(client.listEntries).toHaveBeenLastCalledWith(3);
      expect(shown().entries.map((e) => e.seq)).toEqual([1, 2, 3]);
    });

    it('announces entries that arrive after the history, never the history nor the user’s own', async () => {
      const { client, emit, controller, view } = setUp();
      client.listEntries.mockResolvedValueOnce([entry(1)]);
      await controller.open();
      emit('entries', { entries: [entry(2, 'user'), entry(3, 'agent')] });
      expect(view.announced).toEqual(['Agent: text 3']);
    });

    it('R7: a refresh from before a clear, ending late, does not let another run beside the newer one', async () => {
      const { client, emit, controller } = setUp();
      await controller.open();
      client.listEntries.mockClear();
      const old = deferred<ConversationEntry[]>();
      const current = deferred<ConversationEntry[]>();
      client.listEntries.mockReturnValueOnce(old.promise).mockReturnValueOnce(current.promise);
      const oldRefresh = controller.refresh();
      emit('session-cleared', { reason: 'logout' });
      void controller.open();
      await vi.waitFor(() => expect(client.listEntries).toHaveBeenCalledTimes(2));

      // The old refresh answers after the clear: when it has ended, the newer one still counts.
      old.resolve([]);
      await oldRefresh;
      void controller.refresh();
      expect(client.listEntries).toHaveBeenCalledTimes(2);
      current.resolve([]);
    });

    it('overlapping refreshes fold into one more round', async () => {
      const { client, controller } = setUp();
      await controller.open();
      client.listEntries.mockClear();
      const answer = deferred<ConversationEntry[]>();
      client.listEntries.mockReturnValueOnce(answer.promise).mockResolvedValueOnce([]);
      const first = controller.refresh();
      void controller.refresh();
      void controller.refresh();
      expect(client.listEntries).toHaveBeenCalledTimes(1);
      answer.resolve([entry(1)]);
      await first;
      expect(client.listEntries.mock.calls).toEqual([[0], [1]]);
    });

    it('a panel reopened while an older load is on its way loads once more after it', async () => {
      const { client, controller } = setUp();
      await controller.open();
      client.listEntries.mockClear();
      const older = deferred<ConversationEntry[]>();
      client.listEntries.mockReturnValueOnce(older.promise).mockResolvedValueOnce([entry(2)]);
      void controller.refresh(); // asked before the panel closed: its answer may predate what came since
      controller.close();
      const reopened = controller.open();
      older.resolve([entry(1)]);
      await reopened;
      expect(client.listEntries.mock.calls).toEqual([[0], [1]]);
    });
  });

  describe('grace window (R6)', () => {
    it('R6 grace shown: an expired token shows the seconds left, counting down to zero', async () => {
      const { emit, clock, controller, view, shown } = setUp();
      await controller.open();
      emit('identity-token-expired', { deadline: NOW + 3_000 });
      expect(shown().graceLeft).toBe(3);
      expect(view.announced).toContain('Your sign-in has expired. Waiting for a new sign-in to continue.');

      await clock.advance(1_000);
      expect(shown().graceLeft).toBe(2);
      await clock.advance(2_000);
      expect(shown().graceLeft).toBe(0);
      // Run out: it stops counting.
      expect(clock.pendingTimers).toBe(0);
    });

    it('R6: a panel opened during a grace window shows it at once', async () => {
      const { client, controller, shown } = setUp();
      client.state.graceDeadline = NOW + 10_000;
      await controller.open();
      expect(shown().graceLeft).toBe(10);
    });

    it('R6/R9: a renewed token from any tab ends the wait and loads what was missed', async () => {
      const { client, emit, clock, controller, view, shown } = setUp();
      await controller.open();
      emit('identity-token-expired', { deadline: NOW + 30_000 });
      client.listEntries.mockClear();
      emit('identity-token-refreshed', {});
      expect(shown().graceLeft).toBeUndefined();
      expect(clock.pendingTimers).toBe(0);
      expect(view.announced.at(-1)).toBe('Signed in again. Continuing.');
      expect(client.listEntries).toHaveBeenCalledTimes(1);
    });
  });

  describe('clear (R7, R8)', () => {
    it('R7 cleared: nothing of the session stays, and the view is told to close', async () => {
      const { client, emit, clock, controller, view, shown } = setUp();
      client.listEntries.mockResolvedValueOnce([entry(1)]);
      client.listOutbox.mockResolvedValueOnce([queued('q-1', 'failed', 'ERR_CONVERSATION_ENDED')]);
      await controller.open();
      client.sendMessage.mockRejectedValueOnce(refusal('ERR_RATE_LIMITED'));
      await controller.send('hello');
      emit('identity-token-expired', { deadline: NOW + 30_000 });
      expect(shown().entries).toHaveLength(1);

      emit('session-cleared', { reason: 'logout' });
      expect(view.cleared).toBe(1);
      expect(shown()).toEqual({
        entries: [],
        outbox: [],
        loaded: false,
        sending: false,
        status: '',
        error: '',
        graceLeft: undefined,
        offline: false,
      });
      expect(clock.pendingTimers).toBe(0);
    });

    it('R8: answers for the cleared session are dropped', async () => {
      const { client, emit, controller, shown } = setUp();
      await controller.open();
      const late = deferred<ConversationEntry[]>();
      client.listEntries.mockReturnValueOnce(late.promise);
      const send = deferred<SentMessage>();
      client.sendMessage.mockReturnValueOnce(send.promise);
      const refreshing = controller.refresh();
      const sending = controller.send('hello');
      expect(shown().sending).toBe(true);

      emit('session-cleared', { reason: 'logout' });
      late.resolve([entry(1)]);
      send.resolve(entry(2, 'user'));
      await refreshing;
      expect(await sending).toBe(false);
      expect(shown().entries).toEqual([]);
      expect(shown().sending).toBe(false);
    });
  });

  describe('send and the outbox (R12)', () => {
    it('R12 outbox pending: a message sent offline waits in the outbox until it is delivered', async () => {
      const { client, emit, controller, view, shown } = setUp();
      await controller.open();
      client.sendMessage.mockResolvedValueOnce(queued('q-1'));
      expect(await controller.send('queued q-1')).toBe(true);
      expect(shown().outbox).toEqual([queued('q-1')]);
      expect(view.announced.at(-1)).toBe('Saved. It will be sent when the connection is back.');

      // Stored: the stream may bring it before the outbox says so; it shows once, as an entry.
      emit('entries', { entries: [{ ...entry(1, 'user'), clientMessageId: 'q-1' }] });
      expect(shown().outbox).toEqual([]);
      expect(shown().entries.map((e) => e.clientMessageId)).toEqual(['q-1']);
    });

    it('R12 outbox refused: a message the server refused shows with its code', async () => {
      const { emit, controller, shown } = setUp();
      await controller.open();
      emit('outbox', {
        messages: [
          queued('q-1', 'failed', 'ERR_CONVERSATION_ENDED'),
          { ...queued('x'), conversationId: 'c-2' },
        ],
      });
      expect(shown().outbox).toEqual([queued('q-1', 'failed', 'ERR_CONVERSATION_ENDED')]);
    });

    it('R12 outbox retry: Retry puts the message back in line and shows the outbox as it is now', async () => {
      const { client, controller, shown } = setUp();
      await controller.open();
      client.listOutbox.mockResolvedValueOnce([queued('q-1', 'pending')]);
      await controller.retry('q-1');
      expect(client.retryMessage).toHaveBeenCalledWith('q-1');
      expect(shown().outbox).toEqual([queued('q-1', 'pending')]);
    });

    it('R12 outbox retry: a retry that fails says why', async () => {
      const { client, controller, shown } = setUp();
      await controller.open();
      client.retryMessage.mockRejectedValueOnce(refusal('ERR_TIMEOUT'));
      await controller.retry('q-1');
      expect(shown().error).toContain('(ERR_TIMEOUT)');
    });

    it('R12 outbox discard: Discard drops the message from the outbox', async () => {
      const { client, emit, controller, shown } = setUp();
      await controller.open();
      emit('outbox', { messages: [queued('q-1', 'failed', 'ERR_CONVERSATION_ENDED')] });
      client.listOutbox.mockResolvedValueOnce([]);
      await controller.discard('q-1');
      expect(client.discardMessage).toHaveBeenCalledWith('q-1');
      expect(shown().outbox).toEqual([]);
    });

    it('a send refused at once says why with its code; signed-out codes say nothing', async () => {
      const { client, controller, shown } = setUp();
      await controller.open();
      client.sendMessage.mockRejectedValueOnce(refusal('ERR_RATE_LIMITED'));
      expect(await controller.send('hello')).toBe(false);
      expect(shown().error).toContain('(ERR_RATE_LIMITED)');

      client.sendMessage.mockRejectedValueOnce(refusal('ERR_SESSION_CLEARED'));
      expect(await controller.send('hello')).toBe(false);
      expect(shown().error).toBe('');
    });

    it('a text over the shared limit is refused before it is sent', async () => {
      const { client, controller, shown } = setUp();
      await controller.open();
      expect(await controller.send('x'.repeat(4001))).toBe(false);
      expect(client.sendMessage).not.toHaveBeenCalled();
      expect(shown().error).toContain('(ERR_INVALID_ARGUMENT)');
    });

    it('one send at a time; a stored message joins the entries', async () => {
      const { client, controller, shown } = setUp();
      await controller.open();
      const sent = deferred<SentMessage>();
      client.sendMessage.mockReturnValueOnce(sent.promise);
      const first = controller.send('one');
      expect(shown()).toMatchObject({ sending: true, status: 'Sending…' });
      expect(await controller.send('two')).toBe(false);
      sent.resolve(entry(1, 'user'));
      expect(await first).toBe(true);
      expect(shown()).toMatchObject({ sending: false, status: '' });
      expect(shown().entries.map((e) => e.seq)).toEqual([1]);
    });

    it('R12: a stored message asks for nothing more: the reply comes on the live stream', async () => {
      const { client, emit, controller, shown } = setUp();
      await controller.open();
      expect(client.listEntries).toHaveBeenCalledTimes(1);
      expect(await controller.send('hello')).toBe(true);
      emit('entries', { entries: [entry(2)] });
      expect(shown().entries.map((e) => e.seq)).toEqual([1, 2]);
      // Each send used to load the entries after it again: one more server request per message.
      expect(client.listEntries).toHaveBeenCalledTimes(1);
    });
  });

  describe('connectivity (R12)', () => {
    it('offline banner: shown when the browser or the worker says offline; back online loads what was missed', async () => {
      let browserOnline = false;
      const { client, emit, controller, shown } = setUp({ browserOnline: () => browserOnline });
      await controller.open();
      expect(shown().offline).toBe(true);

      browserOnline = true;
      client.online = false;
      emit('connectivity', { online: false });
      expect(shown().offline).toBe(true);

      client.listEntries.mockClear();
      client.online = true;
      emit('connectivity', { online: true });
      expect(shown().offline).toBe(false);
      expect(client.listEntries).toHaveBeenCalledTimes(1);
    });
  });

  describe('lifecycle', () => {
    it('disconnect stops following the stream and listening; dispose drops what is in flight', async () => {
      const { client, emit, controller, shown } = setUp();
      const stopWatching = vi.fn();
      client.watchEntries.mockReturnValueOnce(stopWatching);
      await controller.open();
      controller.disconnect();
      expect(stopWatching).toHaveBeenCalledTimes(1);
      emit('entries', { entries: [entry(1)] });
      expect(shown().entries).toEqual([]);

      controller.connect();
      const late = deferred<ConversationEntry[]>();
      client.listEntries.mockReturnValueOnce(late.promise);
      const refreshing = controller.refresh();
      controller.dispose();
      late.resolve([entry(1)]);
      await refreshing;
      expect(shown().entries).toEqual([]);
    });
  });
});
