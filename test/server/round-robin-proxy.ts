// A small round-robin HTTP proxy on 127.0.0.1 for multi-instance tests and the bench: each
// request goes to the next backend; one that refuses the connection is skipped for the next, as
// a load balancer's health check would. A backend that dies mid-answer cuts the client's answer
// too (a stream ends, the client reconnects).
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A running proxy. */
export interface RoundRobinProxy {
  url: string;
  /** Which backend answered each request, in arrival order. */
  readonly served: Array<{ method: string; path: string; backend: string }>;
  close(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/**
 * Starts the proxy in front of `backends` (base URLs).
 *
 * @example
 * ```ts
 * const proxy = await startRoundRobinProxy([a.url, b.url]);
 * await fetch(`${proxy.url}/healthz`); // answered by a, the next request by b
 * await proxy.close();
 * ```
 */
export async function startRoundRobinProxy(backends: string[]): Promise<RoundRobinProxy> {
  let next = 0;
  const served: RoundRobinProxy['served'] = [];
  const server = createServer(async (incoming, outgoing) => {
    const body = await readBody(incoming);
    const start = next;
    next = (next + 1) % backends.length;
    const attempt = (tries: number) => {
      const backend = backends[(start + tries) % backends.length] as string;
      const target = new URL(incoming.url ?? '/', backend);
      const upstream = httpRequest(
        target,
        { method: incoming.method, headers: { ...incoming.headers, host: target.host } },
        (answer) => {
          served.push({ method: incoming.method ?? 'GET', path: target.pathname, backend });
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          // Flush headers at once: an event stream's first bytes may be a while away.
          outgoing.flushHeaders();
          answer.pipe(outgoing);
          answer.on('error', () => outgoing.destroy());
          answer.on('aborted', () => outgoing.destroy());
          // The answer closes when it ended or its connection did (keep-alive sockets are reused:
          // a listener on the socket would pile up, one per request).
          answer.on('close', () => {
            if (!answer.complete) outgoing.destroy();
          });
        },
      );
      upstream.on('error', (error: NodeJS.ErrnoException) => {
        if (outgoing.headersSent) return outgoing.destroy();
        // Refused: the backend is down; the next one gets the request.
        if (error.code === 'ECONNREFUSED' && tries + 1 < backends.length) return attempt(tries + 1);
        outgoing.writeHead(502, { 'content-type': 'application/json' });
        outgoing.end(
          JSON.stringify({ code: 'ERR_SERVER', message: `proxy: ${error.code ?? error.message}` }),
        );
      });
      outgoing.on('close', () => upstream.destroy());
      upstream.end(body);
    };
    attempt(0);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    served,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
