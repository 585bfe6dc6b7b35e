import type { Clock } from '../core/clock.ts';
import type { ErrorCode } from '../core/errors.ts';
import type { ConversationEntry } from '../core/protocol.ts';
import type { EntryHub } from './entry-hub.ts';
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
 * `unauthorized` with `{ code }` when the authorization token expired or was revoked. The stream
 * closes after `end` and `unauthorized`; a client reconnects with `Last-Event-ID` and loses
 * nothing.
 *
 * @example
 * ```ts
 * const streams = new EntryStreams({ store, hub, clock: systemClock, heartbeatMs: 15_000 });
 * return streams.open({ conversationId, afterSeq: 0, jti, expiresAt }); // a Response
 * ```
 */
export class EntryStreams {
  readonly #store: ServerStore;
  readonly #hub: EntryHub;
  readonly #clock: Clock;
  readonly #heartbeatMs: number;
  readonly #live = new Set<LiveStream>();

  constructor(options: { store: ServerStore; hub: EntryHub; clock: Clock; heartbeatMs: number }) {
    this.#store = options.store;
    this.#hub = options.hub;
    this.#clock = options.clock;
    this.#heartbeatMs = options.heartbeatMs;
  }

  /** Number of open streams. */
  get size(): number {
    return this.#live.size;
  }

  /** Ends every stream (server shutdown). */
  endAll(): void {
    for (const stream of [...this.#live]) stream.end('shutdown');
  }

  /** Ends the streams opened with the token `jti` (it was revoked). */
  endForToken(jti: string): void {
    for (const stream of [...this.#live]) if (stream.jti === jti) stream.end('token-revoked');
  }

  /** A streaming `Response` for one client. */
  open(options: EntryStreamOptions): Response {
    const live = this.#live;
    const hub = this.#hub;
    const store = this.#store;
    const clock = this.#clock;
    const heartbeatMs = this.#heartbeatMs;
    let cleanup = () => {};

    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        let lastSeq = options.afterSeq;
        let closed = false;
        let heartbeat: ReturnType<typeof setInterval> | undefined = undefined;
        let cancelExpiry = () => {};
        let unsubscribe = () => {};
        cleanup = finish;
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
        const unauthorized = (code: ErrorCode) => {
          send(frame({ event: 'unauthorized', data: { code } }));
          finish();
        };

        const stream: LiveStream = {
          jti: options.jti,
          end(reason) {
            if (reason === 'token-revoked') unauthorized('ERR_ACCESS_TOKEN_REVOKED');
            else finish();
          },
        };
        live.add(stream);

        // Backlog and subscription in one synchronous step (see EntryHub): nothing falls between.
        unsubscribe = hub.subscribe(options.conversationId, (event) => {
          if (event.type === 'entry') sendEntry(event.entry);
          else {
            send(frame({ event: 'end', data: { status: 'ended' } }));
            finish();
          }
        });
        send(frame({ retry: 2000 }));
        for (const entry of store.entriesAfter(options.conversationId, options.afterSeq)) sendEntry(entry);
        if (store.conversation(options.conversationId)?.status === 'ended') {
          send(frame({ event: 'end', data: { status: 'ended' } }));
          finish();
          return;
        }

        if (closed) return;
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

        function finish() {
          if (closed) return;
          closed = true;
          unsubscribe();
          clearInterval(heartbeat);
          cancelExpiry();
          live.delete(stream);
          try {
            controller.close();
          } catch {
            // Already cancelled by the client.
          }
        }
      },
      cancel() {
        cleanup();
      },
    });

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
