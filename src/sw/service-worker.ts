// The service worker entry (R11's first choice): one engine for every tab of the origin.
// Registered by the page stub with workbox-window as `tabwarden-sw.js?config=...`.
import { PROTOCOL_VERSION, type EventMessage } from '../core/protocol.ts';
import { decodeWorkerConfig } from '../core/worker-config.ts';
import { createEngine } from './create-engine.ts';
import { WorkerHost } from './worker-host.ts';

const sw = self as unknown as ServiceWorkerGlobalScope;
const config = decodeWorkerConfig(new URL(sw.location.href).searchParams.get('config'));
const engine = createEngine(config, sw.location.href);
const host = new WorkerHost(engine, sw.location.origin);

// A new version takes over at once; the session lives in IndexedDB, so nothing is lost (R10).
sw.addEventListener('install', () => void sw.skipWaiting());
sw.addEventListener('activate', (event) => event.waitUntil(sw.clients.claim()));

sw.addEventListener('message', (event) => {
  const source = event.source;
  if (!(source instanceof WindowClient)) return;
  // Each call arrives here (postMessage wakes a stopped worker); waitUntil keeps the worker up
  // until the call has settled and its background work (revocation, writes) is done.
  const post = async (message: EventMessage, transfer: MessagePort[]) => {
    // Look the client up again: the tab may have gone since it called.
    const client = await sw.clients.get(source.id);
    client?.postMessage(message, transfer);
    return client !== undefined;
  };
  // The client id, not a page-chosen id, is the tab's identity: no page can pose as another.
  event.waitUntil(
    host.accept(event.data, event.origin, event.ports, post, source.id).then(() => host.whenIdle()),
  );
});

// R10: a (re)started worker knows no tab yet; ask every window to reconnect and re-present
// its in-memory identity token, so broadcasts (a logout elsewhere) reach idle tabs too.
void engine.then(async (started) => {
  const windows = await sw.clients.matchAll({ type: 'window' });
  const event = { type: 'identity-token-requested' as const, sessionVersion: started.sessionVersion };
  for (const client of windows) {
    client.postMessage({ type: 'tabwarden:event', protocol: PROTOCOL_VERSION, tabId: '*', event });
  }
});
