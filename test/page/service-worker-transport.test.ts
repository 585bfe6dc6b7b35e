// The tab channel's service-worker transport (src/page/service-worker-transport.ts), over a fake
// ServiceWorkerContainer: calls go to the controller, which wakes a stopped worker; a connect
// hands the worker a fresh port; events arrive on that port and their acks go back on it, not
// through the browser process.
import { afterEach, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, type TabMessage } from '../../src/core/protocol.ts';
import { ServiceWorkerTransport } from '../../src/page/service-worker-transport.ts';

const TAB = 'tab-1';
const connect: TabMessage = { type: 'tabwarden:connect', protocol: PROTOCOL_VERSION, tabId: TAB };
const call: TabMessage = {
  type: 'tabwarden:call',
  protocol: PROTOCOL_VERSION,
  tabId: TAB,
  id: '1',
  method: 'getState',
  args: [],
};
const ack: TabMessage = { type: 'tabwarden:ack', protocol: PROTOCOL_VERSION, tabId: TAB, id: '7' };

/** A container whose controller records what the tab posted to it, with the ports it carried. */
function fakeContainer() {
  const posted: Array<{ message: unknown; ports: MessagePort[] }> = [];
  const container = {
    controller: {
      postMessage: (message: unknown, ports: MessagePort[] = []) => void posted.push({ message, ports }),
    },
    addEventListener: () => {},
    removeEventListener: () => {},
    startMessages: () => {},
  };
  return { posted, container: container as unknown as ServiceWorkerContainer };
}

/** The next message on `port`, as the worker would receive it. */
const nextMessage = (port: MessagePort) =>
  new Promise<unknown>((resolve) => {
    port.onmessage = (event) => resolve(event.data);
  });

describe('ServiceWorkerTransport', () => {
  const open: ServiceWorkerTransport[] = [];
  afterEach(() => {
    for (const transport of open.splice(0)) transport.close();
  });

  it("R10: calls go to the controller, which wakes a stopped worker; an event's ack goes back on the connect's port", async () => {
    const { posted, container } = fakeContainer();
    const transport = new ServiceWorkerTransport(container);
    open.push(transport);
    let receive: (data: unknown) => void = () => {};
    transport.open((data) => receive(data));

    transport.post(connect);
    const workerPort = posted[0]!.ports[0]!;
    expect(posted[0]!.message).toEqual(connect);
    transport.post(call);
    expect(posted.map((post) => post.message)).toEqual([connect, call]);

    // The worker's event arrives on its end of the port; the tab's ack comes back the same way.
    const event = { type: 'tabwarden:event', protocol: PROTOCOL_VERSION, tabId: TAB, id: '7' };
    const delivered = new Promise((resolve) => (receive = resolve));
    workerPort.postMessage(event);
    expect(await delivered).toEqual(event);
    const acked = nextMessage(workerPort);
    transport.post(ack);
    expect(await acked).toEqual(ack);
    expect(posted.map((post) => post.message)).toEqual([connect, call]);
    workerPort.close();
  });

  it('R10: before any connect opened a port, an ack goes to the controller', () => {
    const { posted, container } = fakeContainer();
    const transport = new ServiceWorkerTransport(container);
    open.push(transport);
    transport.open(() => {});
    transport.post(ack);
    expect(posted.map((post) => post.message)).toEqual([ack]);
  });
});
