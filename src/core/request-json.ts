import { isErrorCode, TabwardenError } from './errors.ts';

/** The `fetch` tabwarden's clients call; the runtime's own by default, injectable for tests. */
export type Fetch = typeof fetch;

/** Options every HTTP client of core takes. */
export interface HttpClientOptions {
  /** The server's base URL, e.g. `https://chat.example.com`. */
  baseUrl: string;
  /** Time limit of one request. Default 10 s. */
  timeoutMs?: number;
  fetch?: Fetch;
}

/** One JSON request. */
export interface JsonRequest {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  accessToken?: string;
}

/**
 * Sends one JSON request with a time limit and turns every failure into a coded error:
 * 401/403 -> ERR_AUTHORIZATION_FAILED (the worker renews, R5), no answer -> ERR_NETWORK, too
 * slow -> ERR_TIMEOUT, another 4xx with a code tabwarden knows -> that code unchanged (R14:
 * ERR_CONVERSATION_ENDED, ERR_PAYLOAD_TOO_LARGE, ERR_RATE_LIMITED with its Retry-After),
 * anything else -> ERR_SERVER. The server's own code, when it sent one, is in the message.
 */
export async function requestJson<T>(options: HttpClientOptions, request: JsonRequest): Promise<T> {
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (request.body !== undefined) headers['content-type'] = 'application/json';
  if (request.accessToken) headers.authorization = `Bearer ${request.accessToken}`;
  try {
    let response;
    try {
      response = await doFetch(new URL(request.path, options.baseUrl).href, {
        method: request.method,
        headers,
        signal: controller.signal,
        ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
      });
    } catch (cause) {
      if (timedOut) throw new TabwardenError('ERR_TIMEOUT', `No answer within ${timeoutMs} ms`, { cause });
      throw new TabwardenError('ERR_NETWORK', 'The server could not be reached', { cause });
    }
    const body: unknown = await response.json().catch(() => undefined);
    if (response.ok) return body as T;
    throw answerError(response, body);
  } finally {
    clearTimeout(timer);
  }
}

/** The coded error for a refusing answer (see {@link requestJson}). */
function answerError(
  response: { status: number; headers: { get(name: string): string | null } },
  body: unknown,
): TabwardenError {
  const serverCode = typeof body === 'object' && body && 'code' in body ? body.code : undefined;
  const detail = typeof serverCode === 'string' ? ` (${serverCode.slice(0, 64)})` : '';
  if (response.status === 401 || response.status === 403) {
    return new TabwardenError('ERR_AUTHORIZATION_FAILED', `The server refused the request${detail}`, {
      status: response.status,
    });
  }
  if (response.status < 500 && isErrorCode(serverCode)) {
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), Date.now());
    return new TabwardenError(serverCode, `The server answered ${response.status}${detail}`, {
      status: response.status,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  }
  return new TabwardenError('ERR_SERVER', `The server answered ${response.status}${detail}`, {
    status: response.status,
  });
}

/** One event-stream request: `GET path` with `Last-Event-ID: afterSeq`. */
export interface EventStreamRequest {
  path: string;
  accessToken: string;
  afterSeq: number;
  /** Ends the stream (and the request, before the server answered). */
  signal: AbortSignal;
}

/**
 * Opens a server-sent-event stream and resolves its body once the server answered (within the
 * time limit; the stream itself may then stay open for as long as it likes). Failures are the
 * coded errors of {@link requestJson}.
 */
export async function openEventStream(
  options: HttpClientOptions,
  request: EventStreamRequest,
): Promise<ReadableStream<Uint8Array>> {
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const controller = new AbortController();
  const abort = () => controller.abort();
  request.signal.addEventListener('abort', abort, { once: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  let response;
  try {
    response = await doFetch(new URL(request.path, options.baseUrl).href, {
      headers: {
        accept: 'text/event-stream',
        authorization: `Bearer ${request.accessToken}`,
        'last-event-id': String(request.afterSeq),
      },
      signal: controller.signal,
    });
  } catch (cause) {
    request.signal.removeEventListener('abort', abort);
    if (timedOut) throw new TabwardenError('ERR_TIMEOUT', `No answer within ${timeoutMs} ms`, { cause });
    throw new TabwardenError('ERR_NETWORK', 'The server could not be reached', { cause });
  } finally {
    clearTimeout(timer);
  }
  if (response.ok && response.body) return response.body;
  request.signal.removeEventListener('abort', abort);
  throw answerError(response, await response.json().catch(() => undefined));
}

/** `Retry-After` in milliseconds: delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}
