import type { Clock } from '../core/clock.ts';
import type { ErrorCode } from '../core/errors.ts';
import type { ConversationEntry } from '../core/protocol.ts';
import { ApiError } from './api-error.ts';
import type { ConversationEvent } from './entry-hub.ts';
import type { ServerStore } from './store.ts';

/** Why the server ended a stream itself. */
export type StreamEndReason = 'conversation-ended' | 'token-expired' | 'token-revoked' | 'shutdown';

interface LiveStream {
  jti: string;
  end(reason: StreamEndReason): void;
}

/** What one stream needs to know. */
export interface EntryStreamOptions {
  conversationId: string;
  /** Entries with a higher `seq` are sent first (from `Last-Event-ID`), then live ones. */
  afterSeq: number;
  /** The authorization token's id and expiry: the stream ends when the token stops being valid. */
  jti: string;
  expiresAt: number;
}

const encoder = new TextEncoder();
// setTimeout's largest delay; longer waits are done in steps.
const MAX_TIMER_MS = 2 ** 31 - 1;

function frame(fields: { id?: number; event?: string; data?: unknown; retry?: number }): string {
  let text = '';
  if (fields.retry !== undefined) text += `retry: ${fields.retry}\n`;
  if (fields.id !== undefined) text += `id: ${fields.id}\n`;
  if (fields.event !== undefined) text += `event: ${fields.event}\n`;
  // JSON.stringify never emits a raw newline, so one data line carries the whole value.
  if (fields.data !== undefined) text += `data: ${JSON.stringify(fields.data)}\n`;
  return `${text}\n`;
}

/**
 * Server-sent-event streams of conversation entries, and the registry of those that are live.
 * Events: `entry` (id = the entry's `seq`, data = the entry), `end` when the conversation ended,
 * `unauthorized` with `{ code }` when the authorization token expired or was revoked (on any
 * instance). The stream closes after `end` and `unauthorized`; a client reconnects with
 * `Last-Event-ID` (to any instance) and loses nothing. Entries go out in `seq` order, each once:
 * a live entry that is not the next one (a notice announced only its seq, or the feed
 * reconnected) makes the stream read what it missed from the store first.
 *
 * @example
 * ```ts
 * const streams = new EntryStreams({ store, clock: systemClock, heartbeatMs: 15_000, perAccessToken: 10 });
 * return await streams.open({ conversationId, afterSeq: 0, jti, expiresAt }); // a Response
 * ```
 */
export class EntryStreams {
  readonly #store: ServerStore;
  readonly #clock: Clock;
  readonly #heartbeatMs: number;
  readonly #perAccessToken: number;
  readonly #live = new Set<LiveStream>();
  readonly #perToken = new Map<string, number>();
  readonly #stopRevocations: () => void;

  constructor(options: { store: ServerStore; clock: Clock; heartbeatMs: number; perAccessToken: number }) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#heartbeatMs = options.heartbeatMs;
    this.#perAccessToken = options.perAccessToken;
    // A token revoked through any instance ends its streams here too.
    this.#stopRevocations = options.store.onRevoked((jti) => this.endForToken(jti));
  }

  /** Number of open streams. */
  get size(): number {
    return this.#live.size;
  }

  /** Ends every stream (server shutdown). */
  endAll(): void {
    this.#stopRevocations();
    for (const stream of [...this.#live]) stream.end('shutdown');
  }

  /** Ends the streams opened with the token `jti` (it was revoked). */
  endForToken(jti: string): void {
    for (const stream of [...this.#live]) if (stream.jti === jti) stream.end('token-revoked');
  }

  /**
   * A streaming `Response` for one client. Rejects with a 429 `ERR_TOO_MANY_STREAMS` when the
   * token already holds its share of this instance's streams.
   */
  async open(options: EntryStreamOptions): Promise<Response> {
    const held = this.#perToken.get(options.jti) ?? 0;
    if (held >= this.#perAccessToken) {
      throw new ApiError(
        429,
        'ERR_TOO_MANY_STREAMS',
        `This authorization token already holds ${held} event streams; close one first`,
        { headers: { 'retry-after': '1' } },
      );
    }
    const live = this.#live;
    const perToken = this.#perToken;
    const store = this.#store;
    const clock = this.#clock;
    const heartbeatMs = this.#heartbeatMs;
    let lastSeq = options.afterSeq;
    let closed = false;
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    let heartbeat: ReturnType<typeof setInterval> | undefined = undefined;
    let cancelExpiry = () => {};
    let unsubscribe = () => {};
    // Reads from the store, one at a time; live entries wait behind a read in progress.
    let reading: Promise<void> | undefined;
    let readAgain = false;
    let endAfterReading = false;

    const send = (text: string) => {
      if (closed) return;
      try {
        controller.enqueue(encoder.encode(text));
      } catch {
        finish(); // The client went away between two events.
      }
    };
    const sendEntry = (entry: ConversationEntry) => {
      if (entry.seq <= lastSeq) return;
      lastSeq = entry.seq;
      send(frame({ id: entry.seq, event: 'entry', data: entry }));
    };
    const sendEnd = () => {
      send(frame({ event: 'end', data: { status: 'ended' } }));
      finish();
    };
    const unauthorized = (code: ErrorCode) => {
      send(frame({ event: 'unauthorized', data: { code } }));
      finish();
    };
    /** Sends what the store has after `lastSeq`; again if asked meanwhile; then a waiting end. */
    const catchUp = (): Promise<void> => {
      readAgain = true;
      reading ??= (async () => {
        try {
          while (readAgain && !closed) {
            readAgain = false;
            for (const entry of await store.entriesAfter(options.conversationId, lastSeq)) sendEntry(entry);
          }
          if (endAfterReading) sendEnd();
        } catch {
          finish(); // The store failed: the client reconnects with Last-Event-ID.
        } finally {
          reading = undefined;
        }
      })();
      return reading;
    };
    const onEvent = (event: ConversationEvent) => {
      if (closed) return;
      if (event.type === 'entry') {
        if (!reading && event.entry.seq === lastSeq + 1) sendEntry(event.entry);
        else if (event.entry.seq > lastSeq) void catchUp();
      } else if (event.type === 'behind') {
        if (event.seq === undefined || event.seq > lastSeq) void catchUp();
      } else if (reading) endAfterReading = true;
      else sendEnd();
    };

    const stream: LiveStream = {
      jti: options.jti,
      end(reason) {
        if (reason === 'token-revoked') unauthorized('ERR_ACCESS_TOKEN_REVOKED');
        else finish();
      },
    };
    function finish() {
      if (closed) return;
      closed = true;
      unsubscribe();
      clearInterval(heartbeat);
      cancelExpiry();
      live.delete(stream);
      const count = (perToken.get(options.jti) ?? 1) - 1;
      if (count === 0) perToken.delete(options.jti);
      else perToken.set(options.jti, count);
      try {
        controller.close();
      } catch {
        // Already cancelled by the client.
      }
    }

    const body = new ReadableStream<Uint8Array>({
      start(streamController) {
        controller = streamController;
      },
      cancel() {
        finish();
      },
    });
    live.add(stream);
    perToken.set(options.jti, held + 1);
    // Subscribed before the backlog is read: an entry committed meanwhile is either in the
    // backlog or heard live (or both: sendEntry drops what was sent).
    unsubscribe = store.subscribe(options.conversationId, onEvent);
    send(frame({ retry: 2000 }));
    await catchUp();
    if (!closed && (await store.conversation(options.conversationId))?.status === 'ended') {
      await catchUp(); // The closing entry may have committed after the first read.
      sendEnd();
    }
    if (!closed) {
      // Comments keep proxies and idle timers from closing a quiet stream.
      heartbeat = setInterval(() => send(': keep-alive\n\n'), heartbeatMs);
      heartbeat.unref();
      const scheduleExpiry = () => {
        const delay = options.expiresAt - clock.now();
        if (delay <= 0) return unauthorized('ERR_ACCESS_TOKEN_EXPIRED');
        if (closed) return;
        cancelExpiry = clock.setTimer(scheduleExpiry, Math.min(delay, MAX_TIMER_MS));
      };
      scheduleExpiry();
    }

    return new Response(body, {
      headers: {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        // Tells buffering reverse proxies (nginx) to pass events through at once.
        'x-accel-buffering': 'no',
      },
    });
  }
}
