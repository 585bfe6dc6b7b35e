import { isTabwardenError } from '../core/errors.ts';
import { ServerSentEventParser } from '../core/parse-server-sent-events.ts';
import type { ConversationEntry, StreamGrant } from '../core/protocol.ts';
import { apiPaths } from '../core/server-api.ts';

/** What {@link watchEntries} needs. */
export interface WatchEntriesOptions {
  serverUrl: string;
  /** Entries after this sequence number are delivered. */
  afterSeq: number;
  /** Asks the worker for a valid authorization token (renewed silently when needed, R5). */
  getGrant(): Promise<StreamGrant>;
  onEntries(entries: ConversationEntry[]): void;
  /** The conversation ended, the session is gone or both tokens expired: the watch has stopped. */
  onStop?(): void;
}

// Codes after which there is nothing to watch until something changes (a new token, a new session).
const FINAL = new Set([
  'ERR_NOT_VERIFIED',
  'ERR_NO_SESSION',
  'ERR_SESSION_CLEARED',
  'ERR_NOT_READY',
  'ERR_TOKEN_EXPIRED',
]);
const MAX_BACKOFF_MS = 15_000;

/**
 * Follows the conversation's server-sent event stream (read with `fetch`, so the authorization
 * token travels in a header, never in a URL), resuming after the last seen entry with
 * `Last-Event-ID`: no entry is lost or delivered twice across reconnects, token renewals and
 * network failures. Returns a function that stops it.
 */
export function watchEntries(options: WatchEntriesOptions): () => void {
  const controller = new AbortController();
  let lastSeq = options.afterSeq;
  let backoffMs = 500;
  const stop = () => controller.abort();
  const pause = () =>
    new Promise<void>((resolve) => {
      setTimeout(resolve, backoffMs);
      backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
    });

  /** Reads one connection; resolves true to reconnect, false when the watch is over. */
  const readOnce = async (): Promise<boolean> => {
    let grant: StreamGrant;
    try {
      grant = await options.getGrant();
    } catch (error) {
      if (isTabwardenError(error) && FINAL.has(error.code)) return false;
      await pause();
      return true;
    }
    const url = new URL(apiPaths.events(grant.conversationId), options.serverUrl);
    const response = await fetch(url, {
      headers: {
        authorization: `Bearer ${grant.accessToken}`,
        accept: 'text/event-stream',
        'last-event-id': String(lastSeq),
      },
      signal: controller.signal,
    });
    if (!response.ok || !response.body) {
      if (response.status === 404) return false;
      await pause();
      return true;
    }
    const parser = new ServerSentEventParser();
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return true;
      const fresh: ConversationEntry[] = [];
      for (const event of parser.feed(value)) {
        if (event.event === 'entry') {
          const entry = JSON.parse(event.data) as ConversationEntry;
          if (entry.seq > lastSeq) fresh.push(entry);
          lastSeq = Math.max(lastSeq, entry.seq);
          backoffMs = 500;
        } else if (event.event === 'unauthorized') {
          void reader.cancel();
          return true; // the next grant renews the authorization token
        } else if (event.event === 'end') {
          if (fresh.length > 0) options.onEntries(fresh);
          void reader.cancel();
          return false;
        }
      }
      if (fresh.length > 0) options.onEntries(fresh);
    }
  };

  void (async () => {
    while (!controller.signal.aborted) {
      try {
        if (!(await readOnce())) break;
      } catch {
        if (controller.signal.aborted) break;
        await pause(); // offline or cut: a network failure is not an auth failure (R12)
      }
    }
    if (!controller.signal.aborted) options.onStop?.();
  })();
  return stop;
}
