// The service worker's event port to one tab (src/sw/tab-event-port.ts), over a Node
// MessageChannel: the far end plays the tab.
import { MessageChannel, type MessagePort as NodePort } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, type EventMessage } from '../../src/core/protocol.ts';
import { TabEventPort } from '../../src/sw/tab-event-port.ts';

const message: EventMessage = {
  type: 'tabwarden:event',
  protocol: PROTOCOL_VERSION,
  tabId: 'tab-1',
  event: { type: 'session-cleared', sessionVersion: 2, reason: 'logout' },
};
const ports: NodePort[] = [];
afterEach(() => ports.splice(0).forEach((port) => port.close()));

/** A port pair: the worker's TabEventPort and the tab's end, which sees each event message. */
function connect(onEvent: (data: EventMessage, tab: NodePort) => void) {
  const { port1, port2 } = new MessageChannel();
  ports.push(port1, port2);
  port2.on('message', (data: EventMessage) => onEvent(data, port2));
  return new TabEventPort(port1 as unknown as MessagePort);
}

const ack = (tab: NodePort, ackId: unknown) => tab.postMessage({ type: 'tabwarden:ack', ackId });

describe('TabEventPort', () => {
  it('R7: an event is confirmed by its id on the same port, without asking whether the tab is there', async () => {
    let asked = 0;
    const port = connect((data, tab) => ack(tab, data.ackId));
    const outcomes = await Promise.all([1, 2, 3].map(() => port.send(message, async () => (asked++, false))));
    expect(outcomes).toEqual([true, true, true]);
    expect(asked).toBe(0);
  });

  it('R13: a confirmation of another id, or a malformed one, confirms nothing', async () => {
    const port = connect((data, tab) => {
      ack(tab, (data.ackId ?? 0) + 100);
      ack(tab, String(data.ackId));
      tab.postMessage('ack');
    });
    expect(await port.send(message, async () => true)).toBe(false);
  });

  it('R7: a tab that does not confirm and has gone counts as gone (no wait for the ack bound)', async () => {
    const port = connect(() => {});
    const began = Date.now();
    expect(await port.send(message, async () => true)).toBe(false);
    expect(Date.now() - began).toBeLessThan(2_000);
  });

  it('R7: a slow tab that is still there is waited for', async () => {
    let confirmLater = () => {};
    const port = connect((data, tab) => (confirmLater = () => ack(tab, data.ackId)));
    const outcome = port.send(message, async () => {
      confirmLater();
      return false;
    });
    expect(await outcome).toBe(true);
  });

  it('closing the port (the tab handed in a new one) ends every wait', async () => {
    const port = connect(() => {});
    const outcome = port.send(message, async () => false);
    port.close();
    expect(await outcome).toBe(true);
  });
});
