import { TabwardenError } from '../core/errors.ts';
import { DEFAULT_GRACE_MS } from '../core/grace-window.ts';
import { CLAIM_REQUEST } from '../core/protocol.ts';
import { encodeWorkerConfig, type WorkerConfig } from '../core/worker-config.ts';
import {
  loadInPageTransport,
  loadSharedWorkerTransport,
  loadWorkbox,
  loadWorkerUnavailable,
} from './optional-parts.ts';
import { scriptUrl } from './script-url.ts';
import { ServiceWorkerTransport } from './service-worker-transport.ts';
import type { ChannelTransport, TransportKind } from './tab-channel.ts';
import { openTabwarden, type Tabwarden, type TabwardenClientOptions } from './tabwarden.ts';

/** Options of {@link createTabwarden}. */
export interface TabwardenOptions extends Omit<TabwardenClientOptions, 'graceMs'> {
  /** What the shared worker needs: issuer, keys, the server's URL (no secrets). */
  worker: WorkerConfig;
  /** Default `/bundles/tabwarden-sw.js` (served with `Service-Worker-Allowed: /`). */
  serviceWorkerUrl?: string;
  /**
   * Default `/`: the worker serves every page of the origin. An app with a service worker of its
   * own gives tabwarden's a scope of its own (and serves the script under it).
   */
  serviceWorkerScope?: string;
  /** Default `/bundles/tabwarden-shared-worker.js`. */
  sharedWorkerUrl?: string;
  /** The engine an elected tab loads for the in-page transport. Default `/bundles/tabwarden-in-page-host.js`. */
  inPageHostUrl?: string;
  /** Default `'auto'`: service worker, else SharedWorker, else a leader tab (R11). */
  transport?: 'auto' | TransportKind;
  /** How long to wait for a new service worker to take control before falling back. Default 5 s. */
  controlTimeoutMs?: number;
}

/**
 * Connects this tab to the verified session every tab shares, over the best transport the page
 * has (R11), and resolves once it is ready (R1); `ready` is also dispatched a task later.
 *
 * @example
 * ```ts
 * const tw = await createTabwarden({
 *   worker: { issuer: 'https://idp.example.com', jwksUrl: '/jwks.json', serverUrl: location.origin },
 *   identityTokenProvider: () => fetch('/session/identity-token').then((r) => r.text()),
 * });
 * tw.addEventListener('session-cleared', () => showSignedOut());
 * ```
 */
export async function createTabwarden(options: TabwardenOptions): Promise<Tabwarden> {
  const tabwarden = await openTabwarden(await chooseTransport(options), crypto.randomUUID(), {
    ...options,
    graceMs: options.worker.graceMs ?? DEFAULT_GRACE_MS,
  });
  addEventListener('pagehide', (event) => {
    if (!event.persisted) tabwarden.close();
  });
  return tabwarden;
}

async function chooseTransport(options: TabwardenOptions): Promise<ChannelTransport> {
  const transport = options.transport ?? 'auto';
  const config = encodeWorkerConfig(options.worker);
  if (
    (transport === 'auto' || transport === 'service-worker') &&
    'serviceWorker' in navigator &&
    isSecureContext
  ) {
    const url = scriptUrl(`${options.serviceWorkerUrl ?? '/bundles/tabwarden-sw.js'}?config=${config}`);
    if (await becomeControlled(url, options.serviceWorkerScope ?? '/', options.controlTimeoutMs ?? 5_000)) {
      return new ServiceWorkerTransport(navigator.serviceWorker);
    }
    if (transport === 'service-worker') {
      throw new TabwardenError('ERR_NOT_READY', 'No service worker took control of this page');
    }
  }
  if ((transport === 'auto' || transport === 'shared-worker') && typeof SharedWorker === 'function') {
    const url = scriptUrl(
      `${options.sharedWorkerUrl ?? '/bundles/tabwarden-shared-worker.js'}?config=${config}`,
    );
    // The fallbacks load only where they are used: a page a service worker controls never does.
    const { SharedWorkerTransport } = await loadSharedWorkerTransport();
    return new SharedWorkerTransport(url);
  }
  if (transport === 'auto' || transport === 'in-page') {
    const hostUrl = new URL(options.inPageHostUrl ?? '/bundles/tabwarden-in-page-host.js', location.href)
      .href;
    const { InPageTransport } = await loadInPageTransport();
    return InPageTransport.create(hostUrl, options.worker);
  }
  throw new TabwardenError('ERR_NOT_READY', `The ${transport} transport is not available in this page`);
}

/**
 * Registers the service worker and waits until it controls this page. A page loaded past the
 * worker (still loading when it activated, or a Shift+Reload) asks it to claim the page. False
 * when it does not control it within `timeoutMs` or the browser refuses service workers;
 * `ERR_WORKER_UNAVAILABLE` when the script is missing or broken.
 */
async function becomeControlled(url: string, scope: string, timeoutMs: number): Promise<boolean> {
  const container = navigator.serviceWorker;
  const href = new URL(url, location.href).href;
  const controlled = new Promise<boolean>((resolve) => {
    if (container.controller && new URL(container.controller.scriptURL).href === href) {
      resolve(true);
      return;
    }
    container.addEventListener('controllerchange', () => resolve(true), { once: true });
    setTimeout(() => resolve(Boolean(container.controller)), timeoutMs);
  });
  try {
    // workbox-window loads only here, when the page registers its worker (optional-parts.ts).
    const { Workbox } = await loadWorkbox();
    // A classic script (see vite.config.ts): it restarts faster than a module worker.
    const registration = await new Workbox(url, { scope }).register();
    // A worker claims the tabs open when it activates; a tab whose page was still loading then
    // is not one of them, and nothing later would make it controlled: tabs opened at once race
    // the first registration so (R1); a Shift+Reload loads past the worker too. Such a page asks
    // the worker, active already, to claim it. (One not active yet claims this page, whose
    // script runs, when it activates.) Only a worker of this very script and configuration is
    // asked: an older configuration's must not take the page.
    const active = registration?.active;
    if (active && active !== container.controller && new URL(active.scriptURL).href === href) {
      active.postMessage(CLAIM_REQUEST);
    }
  } catch (error) {
    // A missing or broken script is the app's to fix: say so now, rather than fall back to a
    // SharedWorker that is most likely missing too and time out. Otherwise the browser refused
    // service workers (a private window, a policy): fall back.
    const unavailable = await diagnose(url, error, scope);
    if (unavailable) throw unavailable;
    if (error instanceof TypeError) {
      throw new TabwardenError(
        'ERR_WORKER_UNAVAILABLE',
        `The service worker failed to start: ${error.message}`,
        {
          cause: error,
        },
      );
    }
    return false;
  }
  return controlled;
}

/**
 * Why the service worker's script did not register (see worker-unavailable.ts): loaded only when
 * a registration failed. If even that cannot load, the network is what failed.
 */
async function diagnose(url: string, cause: unknown, scope: string): Promise<TabwardenError | undefined> {
  try {
    const { workerUnavailable } = await loadWorkerUnavailable();
    return await workerUnavailable('service worker', url, cause, scope);
  } catch {
    return new TabwardenError(
      'ERR_WORKER_UNAVAILABLE',
      `The service worker script ${url} could not be checked (network error)`,
      { cause },
    );
  }
}
