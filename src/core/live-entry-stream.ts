import type { Clock } from './clock.ts';
import { isTabwardenError, TabwardenError } from './errors.ts';
import { ServerSentEventParser } from './parse-server-sent-events.ts';
import type { ConversationEntry } from './protocol.ts';

/** What {@link followLiveEntries} is built from. */
export interface LiveEntryStreamOptions {
  /** The last entry already handled: the stream resumes after it (`Last-Event-ID`). */
  afterSeq: number;
  /** Opens the server's event stream after `afterSeq`; rejects with a coded error. */
  open(afterSeq: number, signal: AbortSignal): Promise<ReadableStream<Uint8Array>>;
  /**
   * New entries, in `seq` order, each once, as they are read; the stream reads on at once (the
   * worker's relay writes them behind). A throw is handled like a failed read: a final code
   * stops the stream, any other reconnects after a pause.
   */
  onEntries(entries: ConversationEntry[]): void;
  /** The server ended the stream because its authorization token expired or was revoked. */
  onUnauthorized(): void;
  /** The stream stopped by itself (see {@link FINAL_CODES}); not called after `stop()`. */
  onStop(reason: TabwardenError): void;
  clock: Clock;
}

/** A running stream. */
export interface LiveEntryStream {
  /** The last entry handed to `onEntries`. */
  readonly lastSeq: number;
  stop(): void;
}

/**
 * Codes after which there is nothing to follow until something changes (a new token, a new
 * session, a new conversation): the stream stops rather than retries.
 */
export const FINAL_CODES: ReadonlySet<string> = new Set([
  'ERR_NOT_VERIFIED',
  'ERR_NO_SESSION',
  'ERR_SESSION_CLEARED',
  'ERR_TOKEN_EXPIRED',
  'ERR_NOT_FOUND',
  'ERR_CONVERSATION_ENDED',
]);
const FIRST_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 15_000;

/**
 * Follows a conversation's server-sent-event stream for as long as it is not stopped: reconnects
 * after network failures and server restarts (with a growing pause), after the server ended it
 * for an expired authorization, always resuming after the last handled entry, so no entry is
 * lost or handed over twice.
 *
 * @example
 * ```ts
 * const stream = followLiveEntries({ afterSeq: 0, open, onEntries, onUnauthorized, onStop, clock });
 * stream.stop();
 * ```
 */
export function followLiveEntries(options: LiveEntryStreamOptions): LiveEntryStream {
  const controller = new AbortController();
  const { signal } = controller;
  let lastSeq = options.afterSeq;
  let backoffMs = FIRST_BACKOFF_MS;
  let cancelPause = () => {};

  const pause = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        signal.removeEventListener('abort', done);
        resolve();
      };
      cancelPause = options.clock.setTimer(done, backoffMs);
      signal.addEventListener('abort', done);
      backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
    });

  /**
   * Reads one connection; resolves true to reconnect at once (the authorization was renewed),
   * false to reconnect after a pause (the server closed it), rejects when the stream is over.
   */
  const readOnce = async (): Promise<boolean> => {
    const body = await options.open(lastSeq, signal);
    backoffMs = FIRST_BACKOFF_MS;
    const parser = new ServerSentEventParser();
    const decoder = new TextDecoder();
    const reader = body.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done || signal.aborted) return false;
        const fresh: ConversationEntry[] = [];
        let next: 'read' | 'reconnect' | 'end' = 'read';
        for (const event of parser.feed(decoder.decode(value, { stream: true }))) {
          if (event.event === 'entry') {
            const entry = JSON.parse(event.data) as ConversationEntry;
            if (entry.seq > lastSeq) fresh.push(entry);
            lastSeq = Math.max(lastSeq, entry.seq);
          } else if (event.event === 'unauthorized') {
            next = 'reconnect';
          } else if (event.event === 'end') {
            next = 'end';
          }
        }
        if (fresh.length > 0) options.onEntries(fresh);
        if (next === 'reconnect') {
          options.onUnauthorized();
          return true;
        }
        if (next === 'end') throw new TabwardenError('ERR_CONVERSATION_ENDED', 'The conversation ended');
      }
    } finally {
      void reader.cancel().catch(() => undefined);
    }
  };

  void (async () => {
    while (!signal.aborted) {
      try {
        // A server that closes streams at once (restarting, say) is asked again after a pause.
        if (!(await readOnce()) && !signal.aborted) await pause();
      } catch (error) {
        if (signal.aborted) break;
        if (isTabwardenError(error) && FINAL_CODES.has(error.code)) {
          options.onStop(error);
          return;
        }
        // Offline, cut, the server restarting, the cache failing: a network failure is not an
        // auth failure (R12); try again later, from the last handled entry.
        await pause();
      }
    }
  })();

  return {
    get lastSeq() {
      return lastSeq;
    },
    stop() {
      cancelPause();
      controller.abort();
    },
  };
}
