// The service worker entry (R11's first choice): one engine for every tab of the origin.
// Registered by the page stub with workbox-window as `tabwarden-sw.js?config=...`.
import { CLAIM_REQUEST } from '../core/protocol.ts';
import type { PostToTab } from '../core/tab-channel-host.ts';
import { parseTabMessage } from '../core/validate-message.ts';
import { decodeWorkerConfig } from '../core/worker-config.ts';
import { startHost } from './create-engine.ts';

const sw = self as unknown as ServiceWorkerGlobalScope;
const config = decodeWorkerConfig(new URL(sw.location.href).searchParams.get('config'));
/** The Background Sync tag under which the outbox asks to be delivered with no tab open (R12). */
const OUTBOX_SYNC_TAG = 'tabwarden-outbox';
// Background Sync is Chromium's; elsewhere the outbox waits for a tab or the worker's next start.
const syncManager = (
  sw.registration as ServiceWorkerRegistration & { sync?: { register(tag: string): Promise<void> } }
).sync;
// A new version runs (and installs) while the old one may still be finishing a call and storing
// the session it started: an engine made then would restore a session that is not written yet,
// and never read it again. So a version that is not active yet starts its engine once it is: the
// browser activates it only when the old one has no call left (R10). A restarted worker is
// active already — or activating, if it was stopped mid-activation: the `activate` event went to
// the instance before it, so waiting for one would wait forever. (`serviceWorker` is missing in
// older browsers: start at once, as before.)
const thisVersion = sw.serviceWorker as ServiceWorker | undefined;
const isActive = () =>
  thisVersion === undefined || thisVersion.state === 'activating' || thisVersion.state === 'activated';
const active = isActive();
const activated = active
  ? Promise.resolve()
  : new Promise<void>((resolve) => {
      sw.addEventListener('activate', () => resolve());
      thisVersion?.addEventListener('statechange', () => isActive() && resolve());
    });
// How many `sync` events are being handled now. A sync event that fails is what has the browser
// fire it again later, on its own backoff; registering the tag while one runs would have it fire
// again the moment it ends — at once while the browser is online, as when the server answers
// 500: the outbox posted in a loop, dozens of times a second, past its own backoff (R12).
let syncing = 0;
const host = activated.then(() =>
  startHost(config, sw.location.href, {
    requestBackgroundDelivery: () => {
      if (syncing === 0) void syncManager?.register(OUTBOX_SYNC_TAG).catch(() => undefined);
    },
  }),
);
// Each tab's route back, by client id: the port its latest connect brought, for as long as this
// instance lives (a stop loses them; tabs re-connect when this instance says it started).
const routes = new Map<string, MessagePort>();

// A new version takes over at once; the session lives in IndexedDB, so nothing is lost (R10).
sw.addEventListener('install', () => void sw.skipWaiting());
sw.addEventListener('activate', (event) =>
  // Once it controls the tabs, an update says it started like a restart does (below, before
  // activation, it controls none).
  event.waitUntil(sw.clients.claim().then(announce)),
);

sw.addEventListener('message', (event) => {
  const source = event.source;
  if (!(source instanceof WindowClient) || event.origin !== sw.location.origin) return;
  if (event.data === CLAIM_REQUEST) {
    // A tab whose page was still loading when this version activated and claimed the tabs open
    // then: the browser left it uncontrolled (tabs opened at once, R1). Ask again, it is claimed.
    event.waitUntil(sw.clients.claim().catch(() => undefined));
    return;
  }
  const message = parseTabMessage(event.data);
  if (!message) return;
  const port = event.ports[0];
  // The client id, not a page-chosen id, is the tab's identity: no page can pose as another.
  const post = postTo(source);
  if (message.type === 'tabwarden:connect') {
    if (!port) return;
    routes.set(source.id, port);
    // The tab acknowledges events on this port (src/page/service-worker-transport.ts): only this
    // tab and this instance hold it, and an ack matters only to the instance that sent the event.
    port.onmessage = (portEvent: MessageEvent) => {
      const ack = parseTabMessage(portEvent.data);
      if (ack?.type === 'tabwarden:ack') void host.then((ready) => ready.receive(source.id, ack, post));
    };
  }
  // postMessage wakes a stopped worker; waitUntil keeps it up until the message was handled (a
  // call answered) and its background work (revocation, writes) is done.
  event.waitUntil(
    host.then(async (ready) => {
      await ready.receive(source.id, message, post);
      await ready.whenIdle();
    }),
  );
});

/** Posts to a tab on the route its latest connect opened, or to its window before one did. */
function postTo(source: WindowClient): PostToTab {
  return (reply) => {
    const route = routes.get(source.id);
    if (!route) {
      source.postMessage(reply);
      return true;
    }
    route.postMessage(reply);
    if (reply.type !== 'tabwarden:event') return true;
    // A port cannot tell that its tab has gone: the browser can, while the tab confirms.
    return sw.clients.get(source.id).then((client) => {
      if (!client) routes.delete(source.id);
      return client !== undefined;
    });
  };
}

// R12: the browser delivers the outbox when the network is back, even with no tab open. A
// delivery that stops short fails the event, so that the browser tries again later.
sw.addEventListener('sync', (event) => {
  const sync = event as ExtendableEvent & { tag: string; lastChance?: boolean };
  if (sync.tag !== OUTBOX_SYNC_TAG) return;
  syncing += 1;
  const delivery = host.then(async (ready) => {
    const delivered = await ready.deliverOutbox();
    await ready.whenIdle();
    if (delivered) return;
    // Chromium tries a registration 3 times (at once, +5 min, +15 min), then drops it: a longer
    // outage would leave the outbox to the next tab. So the last try registers the tag once more.
    // Registered while its event runs, the browser keeps it and, once the event ended, fires it
    // again (when online) with its attempts reset: one new round per ~20 min, not a loop.
    // Chromium refuses it (NotAllowedError) while no window of the origin is open: then the
    // outbox does wait for the next tab.
    if (sync.lastChance) await syncManager?.register(OUTBOX_SYNC_TAG).catch(() => undefined);
    throw new Error('The outbox waits for the network');
  });
  sync.waitUntil(delivery.finally(() => (syncing -= 1)));
});

// R10: a (re)started worker knows no tab yet: it tells every window it controls, so that each
// re-connects (re-presenting its in-memory token) and broadcasts (a logout elsewhere) reach idle
// tabs too.
async function announce(): Promise<void> {
  const { started } = await host;
  for (const client of await sw.clients.matchAll({ type: 'window' })) client.postMessage(started);
}
// A version not active yet controls no tab: it says it started once it activated (above).
if (active) void announce();
