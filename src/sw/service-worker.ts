// The service worker entry (R11's first choice): one engine for every tab of the origin.
// Registered by the page stub with workbox-window as `tabwarden-sw.js?config=...`.
import { eventMessage, reconnectRequest } from '../core/event-message.ts';
import { instanceLockName, type EventMessage, type ProbeReply } from '../core/protocol.ts';
import { parseConnectMessage, parseProbeMessage } from '../core/validate-message.ts';
import { decodeWorkerConfig } from '../core/worker-config.ts';
import { CallRegistry } from './call-registry.ts';
import { createEngine } from './create-engine.ts';
import { TabEventPort } from './tab-event-port.ts';
import { sendWithAckPort, WorkerHost } from './worker-host.ts';

const sw = self as unknown as ServiceWorkerGlobalScope;
const config = decodeWorkerConfig(new URL(sw.location.href).searchParams.get('config'));
/** The Background Sync tag under which the outbox asks to be delivered with no tab open (R12). */
const OUTBOX_SYNC_TAG = 'tabwarden-outbox';
// Background Sync is Chromium's; elsewhere the outbox waits for a tab or the worker's next start.
const syncManager = (
  sw.registration as ServiceWorkerRegistration & { sync?: { register(tag: string): Promise<void> } }
).sync;
const engine = createEngine(config, sw.location.href, {
  requestBackgroundDelivery: () => void syncManager?.register(OUTBOX_SYNC_TAG).catch(() => undefined),
});
const host = new WorkerHost(engine);
// Each tab's event port, by client id, for as long as this worker lives (a stop loses them;
// tabs hand in new ones when the restarted worker asks them to reconnect).
const eventPorts = new Map<string, TabEventPort>();
// The calls this instance works on: a tab's probe learns from it whether a call died with an
// earlier instance (R10).
const calls = new CallRegistry();
// Held for this instance's life: a tab with calls in flight waits for it, and learns of a stop at
// once (a stopped worker's locks are released), without waiting for a probe (R10).
void sw.navigator.locks?.request(instanceLockName(calls.instanceId), () => new Promise<never>(() => {}));

// A new version takes over at once; the session lives in IndexedDB, so nothing is lost (R10).
sw.addEventListener('install', () => void sw.skipWaiting());
sw.addEventListener('activate', (event) =>
  // Once it controls the tabs, an update asks them to reconnect like a restart does (below,
  // before activation, it controls none).
  event.waitUntil(sw.clients.claim().then(askTabsToReconnect)),
);

sw.addEventListener('message', (event) => {
  const source = event.source;
  if (!(source instanceof WindowClient)) return;
  const probe = parseProbeMessage(event.data, event.origin, sw.location.origin);
  if (probe) {
    const reply: ProbeReply = {
      type: 'tabwarden:probe-reply',
      instanceId: calls.instanceId,
      known: calls.known(probe.callIds),
    };
    event.ports[0]?.postMessage(reply);
    return;
  }
  const connect = parseConnectMessage(event.data, event.origin, sw.location.origin);
  const events = event.ports[1];
  if (events && connect?.listen) {
    eventPorts.get(source.id)?.close();
    eventPorts.set(source.id, new TabEventPort(events));
  }
  // Asked only when a tab is slow to confirm an event: a port cannot tell that its tab has gone.
  const isGone = async () => {
    const gone = (await sw.clients.get(source.id)) === undefined;
    if (gone) {
      eventPorts.get(source.id)?.close();
      eventPorts.delete(source.id);
    }
    return gone;
  };
  // A tab whose event port this worker lacks (it restarted since): post to its window, looked up
  // afresh (it may have gone since it called).
  const postToClient = async (message: EventMessage, transfer: MessagePort[]) => {
    const client = await sw.clients.get(source.id);
    client?.postMessage(message, transfer);
    return client !== undefined;
  };
  const sendToClient = sendWithAckPort(postToClient);
  const send = (message: EventMessage) =>
    eventPorts.get(source.id)?.send(message, isGone) ?? sendToClient(message);
  // Each call arrives here (postMessage wakes a stopped worker); waitUntil keeps the worker up
  // until the call has settled and its background work (revocation, writes) is done. The client
  // id, not a page-chosen id, is the tab's identity: no page can pose as another.
  const served = host.accept(connect, event.ports, send, source.id);
  calls.track(connect?.callId, served);
  event.waitUntil(served.then(() => host.whenIdle()));
});

// R12: the browser delivers the outbox when the network is back, even with no tab open. A
// delivery that stops short fails the event, so that the browser tries again later.
sw.addEventListener('sync', (event) => {
  const sync = event as ExtendableEvent & { tag: string };
  if (sync.tag !== OUTBOX_SYNC_TAG) return;
  sync.waitUntil(
    engine.then(async (ready) => {
      const delivered = await ready.deliverOutbox();
      await ready.whenIdle();
      if (!delivered) throw new Error('The outbox waits for the network');
    }),
  );
});

// R10: a (re)started worker knows no tab yet; ask every window it controls to reconnect and
// re-present its in-memory identity token, so broadcasts (a logout elsewhere) reach idle tabs too.
async function askTabsToReconnect(): Promise<void> {
  const message = eventMessage('*', reconnectRequest((await engine).sessionVersion));
  for (const client of await sw.clients.matchAll({ type: 'window' })) client.postMessage(message);
}
void askTabsToReconnect();
