// A TCP link between the browser and the reference server that a test can cut: while cut, open
// connections are reset and new ones refused, so every fetch of the pages and of their workers
// fails as on a dead network. The stand-in for "go offline" where an engine's automation protocol
// has no network emulation (WebKitGTK's WebDriver) or one that does not reach workers (Firefox's
// BiDi network conditions). Alone it leaves navigator.onLine true: only the network is gone.
import { connect, createServer, type Socket } from 'node:net';

/** A cuttable link to `target`, listening on its own port of 127.0.0.1 (its own origin). */
export interface NetworkCut {
  /** `http://127.0.0.1:<port>`: load the app from here. */
  url: string;
  /** Resets every open connection and refuses new ones until {@link restore}. */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startNetworkCut(target: string): Promise<NetworkCut> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  let isCut = false;
  const server = createServer((client) => {
    if (isCut) return void client.resetAndDestroy();
    const upstream = connect(Number(port), hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: own } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${own}`,
    cut() {
      isCut = true;
      for (const socket of sockets) socket.resetAndDestroy();
    },
    restore() {
      isCut = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
