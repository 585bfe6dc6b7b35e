import { createServer, request as forward, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A route as the reference server's docs name them: `'POST /v1/authorization'`,
 * `'GET /v1/conversations/:id/entries'` (a `:name` matches one path segment), a path alone for
 * any method (`'/v1/conversations/:id/messages'`), or `'*'` for every request.
 */
export type Route = string;

/** What the front door does to requests of one route. */
export type Fault =
  { kind: 'slow'; delayMs: number } | { kind: 'fail'; status: number; code: string } | { kind: 'cut' };

/** One request that reached the front door, in the order they arrived. */
export interface ArrivedRequest {
  method: string;
  /** Without the query string. */
  path: string;
  /** The fault applied to it, if any. */
  fault?: Fault['kind'] | 'hold';
}

/** The requests of a route held at the door by {@link FrontDoor.hold}. */
export interface HeldRoute {
  /**
   * Resolves once a request of the route has arrived (at once if one already has); rejects
   * after `timeoutMs` (default 10 s) if none does.
   */
  arrived(timeoutMs?: number): Promise<void>;
  /** Stops holding the route and lets every request held so far go on to the server. */
  release(): void;
}

// A held route's state: the requests waiting to go on, and who waits for the first to arrive.
interface Hold {
  kind: 'hold';
  arrivals: number;
  waiting: Array<() => void>;
  onArrival: Array<() => void>;
}

/** A door in front of a server that counts requests as they arrive and can slow, fail, cut or hold them. */
export interface FrontDoor {
  /** `http://127.0.0.1:<port>`: give this to the browser instead of the server's own URL. */
  url: string;
  /** Every request so far, in the order they arrived (faulted ones too). */
  requests(): ArrivedRequest[];
  /** How many requests of `route` have arrived so far, answered or not. */
  count(route: Route): number;
  /** Applies `fault` to the requests of `route` from now on (replacing an earlier one there). */
  setFault(route: Route, fault: Fault): void;
  /**
   * Holds every later request of `route` at the door until {@link HeldRoute.release}: a request
   * on the wire for as long as the test needs (never released, the server seems to hang). Its
   * body is read as it arrives, so one whose sender died meanwhile (a stopped worker, a closed
   * tab) still reaches the server on release, as a request already sent would.
   */
  hold(route: Route): HeldRoute;
  /** Removes the fault of `route`, or every fault. Requests already held stay held until released. */
  heal(route?: Route): void;
  /**
   * Appends a comment naming `version` to every script whose path ends in `scriptSuffix`: a
   * byte-different service worker script is a new version for the browser.
   */
  setScriptVersion(scriptSuffix: string, version: number): void;
  /** Closes the door and every connection through it. */
  close(): Promise<void>;
}

function matcher(route: Route): (method: string, path: string) => boolean {
  if (route.trim() === '*') return () => true;
  const [first, second] = route.trim().split(/\s+/);
  const method = second === undefined ? undefined : first!.toUpperCase();
  const pattern = second ?? first!;
  const regex = new RegExp(
    `^${pattern
      .split('/')
      .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/')}$`,
  );
  return (m, path) => (method === undefined || m === method) && regex.test(path);
}

/**
 * Opens a front door on a free port of 127.0.0.1 that forwards everything to `targetUrl`
 * (server-sent events stream through). Tests use it to count what reaches the server and to
 * break one route at a time, whoever makes the request: a page, a service worker or a
 * SharedWorker.
 *
 * @example
 * ```ts
 * const door = await openFrontDoor(testServer.url);
 * door.setFault('POST /v1/conversations/:id/messages', { kind: 'fail', status: 503, code: 'ERR_TEST' });
 * door.count('POST /v1/authorization'); // exchanges so far
 * ```
 */
export async function openFrontDoor(targetUrl: string): Promise<FrontDoor> {
  const target = new URL(targetUrl);
  const arrived: ArrivedRequest[] = [];
  let faults: Array<{ route: Route; matches: ReturnType<typeof matcher>; fault: Fault | Hold }> = [];
  const versions = new Map<string, number>();
  const sockets = new Set<Socket>();

  // `body`: already read (a held request); otherwise the request streams through.
  const pass = (incoming: IncomingMessage, outgoing: ServerResponse, path: string, body?: Buffer) => {
    const upstream = forward(
      {
        host: target.hostname,
        port: target.port,
        method: incoming.method,
        path: incoming.url,
        headers: { ...incoming.headers, host: target.host },
      },
      (answer) => {
        if (outgoing.destroyed) {
          // The sender is gone (a held request of a worker since stopped): the server has it.
          answer.resume();
          return;
        }
        const version = [...versions].find(([suffix]) => path.endsWith(suffix))?.[1];
        if (version === undefined || answer.statusCode !== 200) {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
          return;
        }
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => {
          const body = Buffer.concat([...chunks, Buffer.from(`\n// test version ${version}\n`)]);
          const headers = { ...answer.headers, 'content-length': String(body.length) };
          delete headers['transfer-encoding'];
          delete headers.etag;
          delete headers['last-modified'];
          outgoing.writeHead(200, headers);
          outgoing.end(body);
        });
      },
    );
    upstream.on('error', () => outgoing.destroy());
    if (body) {
      upstream.end(body);
      return;
    }
    outgoing.on('close', () => upstream.destroy());
    incoming.pipe(upstream);
  };

  const door = createServer((incoming, outgoing) => {
    const method = incoming.method ?? 'GET';
    const path = new URL(incoming.url ?? '/', 'http://door').pathname;
    const fault = faults.find((entry) => entry.matches(method, path))?.fault;
    arrived.push({ method, path, ...(fault ? { fault: fault.kind } : {}) });
    if (!fault) return pass(incoming, outgoing, path);
    switch (fault.kind) {
      case 'cut':
        // As a dropped connection looks to the browser: a network error, no status.
        incoming.socket.destroy();
        return;
      case 'fail':
        incoming.resume();
        outgoing.writeHead(fault.status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        outgoing.end(JSON.stringify({ code: fault.code, message: `Test fault on ${method} ${path}` }));
        return;
      case 'slow': {
        const timer = setTimeout(() => pass(incoming, outgoing, path), fault.delayMs);
        incoming.socket.once('close', () => clearTimeout(timer));
        return;
      }
      case 'hold': {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.once('end', () => {
          fault.arrivals += 1;
          fault.waiting.push(() => pass(incoming, outgoing, path, Buffer.concat(chunks)));
          for (const notify of fault.onArrival.splice(0)) notify();
        });
        return;
      }
    }
  });
  door.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    door.once('error', reject);
    door.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = door.address() as AddressInfo;
  let closing: Promise<void> | undefined;

  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => arrived.map((request) => ({ ...request })),
    count(route) {
      const matches = matcher(route);
      return arrived.filter((request) => matches(request.method, request.path)).length;
    },
    setFault(route, fault) {
      faults = [
        { route, matches: matcher(route), fault },
        ...faults.filter((entry) => entry.route !== route),
      ];
    },
    hold(route) {
      const hold: Hold = { kind: 'hold', arrivals: 0, waiting: [], onArrival: [] };
      faults = [
        { route, matches: matcher(route), fault: hold },
        ...faults.filter((entry) => entry.route !== route),
      ];
      return {
        arrived: (timeoutMs = 10_000) =>
          hold.arrivals > 0
            ? Promise.resolve()
            : new Promise<void>((resolve, reject) => {
                const timer = setTimeout(
                  () =>
                    reject(new Error(`front door: no request of ${route} arrived within ${timeoutMs} ms`)),
                  timeoutMs,
                );
                hold.onArrival.push(() => {
                  clearTimeout(timer);
                  resolve();
                });
              }),
        release: () => {
          faults = faults.filter((entry) => entry.fault !== hold);
          for (const go of hold.waiting.splice(0)) go();
        },
      };
    },
    heal(route) {
      faults = route === undefined ? [] : faults.filter((entry) => entry.route !== route);
    },
    setScriptVersion(scriptSuffix, version) {
      versions.set(scriptSuffix, version);
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        door.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}
