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
  /** The server (one of the door's targets) that answered it, once one did. */
  backend?: string;
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
  /** Sends later requests to other servers (a restarted one on its new port, say). */
  retarget(targets: string | readonly string[]): void;
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

function readBody(incoming: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.once('end', () => resolve(Buffer.concat(chunks)));
    incoming.once('error', reject);
  });
}

/**
 * Opens a front door on a free port of 127.0.0.1 that forwards everything to `targets` (a
 * server's base URL, or several: then round-robin, as a load balancer in front of instances of
 * one deployment, skipping one that refuses the connection). Server-sent events stream through;
 * a server that dies mid-answer cuts the answer at the door too. Tests use it to count what
 * reaches the server and to break one route at a time, whoever makes the request: a page, a
 * service worker or a SharedWorker.
 *
 * @example
 * ```ts
 * const door = await openFrontDoor(testServer.url);
 * door.setFault('POST /v1/conversations/:id/messages', { kind: 'fail', status: 503, code: 'ERR_TEST' });
 * door.count('POST /v1/authorization'); // exchanges so far
 * ```
 */
export async function openFrontDoor(targets: string | readonly string[]): Promise<FrontDoor> {
  let servers = [targets].flat().map((target) => new URL(target));
  let next = 0;
  const arrived: ArrivedRequest[] = [];
  let faults: Array<{ route: Route; matches: ReturnType<typeof matcher>; fault: Fault | Hold }> = [];
  const versions = new Map<string, number>();
  const sockets = new Set<Socket>();

  // Forwards a request whose body was read to the next server; one that refuses the connection
  // is skipped for the following one, while there is one left to try.
  const pass = (
    incoming: IncomingMessage,
    outgoing: ServerResponse,
    request: ArrivedRequest,
    body: Buffer,
  ) => {
    const first = next;
    next = (next + 1) % servers.length;
    const attempt = (tries: number) => {
      const server = servers[(first + tries) % servers.length]!;
      const upstream = forward(
        {
          host: server.hostname,
          port: server.port,
          method: incoming.method,
          path: incoming.url,
          headers: { ...incoming.headers, host: server.host },
        },
        (answer) => {
          request.backend = server.origin;
          if (outgoing.destroyed) {
            // The sender is gone (a held request of a worker since stopped): the server has it.
            answer.resume();
            return;
          }
          // The answer closes when it ended or its connection did: a server that died mid-answer.
          answer.on('close', () => {
            if (!answer.complete) outgoing.destroy();
          });
          const version = [...versions].find(([suffix]) => request.path.endsWith(suffix))?.[1];
          if (version === undefined || answer.statusCode !== 200) {
            outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
            // At once: an event stream's first bytes may be a while away.
            outgoing.flushHeaders();
            answer.pipe(outgoing);
            return;
          }
          const chunks: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => chunks.push(chunk));
          answer.on('end', () => {
            const script = Buffer.concat([...chunks, Buffer.from(`\n// test version ${version}\n`)]);
            const headers = { ...answer.headers, 'content-length': String(script.length) };
            delete headers['transfer-encoding'];
            delete headers.etag;
            delete headers['last-modified'];
            outgoing.writeHead(200, headers);
            outgoing.end(script);
          });
        },
      );
      upstream.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'ECONNREFUSED' && !outgoing.headersSent && tries + 1 < servers.length) {
          return attempt(tries + 1);
        }
        outgoing.destroy();
      });
      outgoing.on('close', () => upstream.destroy());
      upstream.end(body);
    };
    attempt(0);
  };

  const door = createServer((incoming, outgoing) => {
    const method = incoming.method ?? 'GET';
    const path = new URL(incoming.url ?? '/', 'http://door').pathname;
    const fault = faults.find((entry) => entry.matches(method, path))?.fault;
    const request: ArrivedRequest = { method, path, ...(fault ? { fault: fault.kind } : {}) };
    arrived.push(request);
    const passOn = () =>
      void readBody(incoming).then(
        (body) => pass(incoming, outgoing, request, body),
        () => outgoing.destroy(),
      );
    if (!fault) return passOn();
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
        const timer = setTimeout(passOn, fault.delayMs);
        incoming.socket.once('close', () => clearTimeout(timer));
        return;
      }
      case 'hold':
        void readBody(incoming).then((body) => {
          fault.arrivals += 1;
          fault.waiting.push(() => pass(incoming, outgoing, request, body));
          for (const notify of fault.onArrival.splice(0)) notify();
        });
        return;
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
    retarget(targets) {
      servers = [targets].flat().map((target) => new URL(target));
      next = 0;
    },
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
