// A fault injector in front of the test server: pages, workers and every request of theirs go
// through it (the app's server URL is its origin), whatever the transport — a SharedWorker's
// fetches included, which the browser context's routing and offline switch do not reach. Per
// request (method and path pattern) it passes, holds until released, answers 500, never answers,
// or drops the connection (the server is down).
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What happens to a matching request. */
export type Fault = 'hold' | 'error-500' | 'hang' | 'down';

/** One rule: requests whose method and path (no query) match get `fault`. */
interface Rule {
  method: string;
  path: RegExp;
  fault: Fault;
  arrivals: number;
  onArrival: Array<() => void>;
}

export interface FaultProxy {
  /** The proxy's origin: open the app here. */
  url: string;
  /**
   * Injects `fault` into every later `method` request whose path matches; returns what the
   * test needs: `arrived()` resolves once one reached the proxy, `release()` lets held ones go
   * on to the server (also a request held from a worker that since died: its body was read).
   */
  inject(method: string, path: RegExp, fault: Fault): { arrived(): Promise<void>; release(): void };
  /** Removes every rule; held requests go on. */
  clear(): void;
  /** Sends later requests to another server (a restarted one, on its new port). */
  retarget(target: string): void;
  close(): Promise<void>;
}

/** Starts a proxy on 127.0.0.1 in front of `target` (`http://127.0.0.1:port`). */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  let upstream = new URL(target);
  let rules: Rule[] = [];
  const held: Array<() => void> = [];
  const sockets = new Set<Socket>();

  const forward = (req: IncomingMessage, body: Buffer, res: ServerResponse) => {
    const out = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        if (!res.destroyed) res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        res.on('close', () => answer.destroy());
      },
    );
    out.on('error', () => res.destroy());
    out.end(body);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const path = (req.url ?? '/').split('?')[0]!;
      const rule = rules.find((r) => r.method === req.method && r.path.test(path));
      if (!rule) return forward(req, body, res);
      rule.arrivals++;
      for (const notify of rule.onArrival.splice(0)) notify();
      switch (rule.fault) {
        case 'hold':
          held.push(() => forward(req, body, res));
          return;
        case 'error-500':
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ code: 'ERR_SERVER', message: 'Injected failure' }));
          return;
        case 'hang':
          return;
        case 'down':
          req.socket.destroy();
          return;
      }
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const releaseAll = () => {
    for (const go of held.splice(0)) go();
  };

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    inject(method, path, fault) {
      const rule: Rule = { method, path, fault, arrivals: 0, onArrival: [] };
      rules.push(rule);
      return {
        arrived: () =>
          rule.arrivals > 0
            ? Promise.resolve()
            : new Promise<void>((resolve) => rule.onArrival.push(resolve)),
        release: () => {
          rules = rules.filter((r) => r !== rule);
          releaseAll();
        },
      };
    },
    clear() {
      rules = [];
      releaseAll();
    },
    retarget(next) {
      upstream = new URL(next);
    },
    async close() {
      rules = [];
      held.splice(0);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
