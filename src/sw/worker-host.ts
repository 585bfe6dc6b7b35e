import * as Comlink from 'comlink';
import { within } from '../core/clock.ts';
import { eventMessage } from '../core/event-message.ts';
import { ACK_BOUND_MS, type ConnectMessage, type EventMessage, type TabApi } from '../core/protocol.ts';
import type { SessionEngine } from '../core/session-engine.ts';
import { createTabApi } from '../core/tab-api.ts';

/**
 * Sends one event message to a tab; resolves true once the tab confirmed (or stayed silent too
 * long), false when the tab is gone.
 */
export type SendToTab = (message: EventMessage) => Promise<boolean>;

/** Posts one event message to a tab; resolves false when the tab is gone (possibly after posting). */
export type PostToTab = (message: EventMessage, transfer: MessagePort[]) => boolean | Promise<boolean>;

// How long a connection's first call may keep a service worker busy.
const FIRST_CALL_BOUND_MS = 60_000;

/**
 * What every worker entry shares: validate a connect message (R13), serve the tab's
 * {@link TabApi} on the port it brought (comlink), and route the engine's events for that tab
 * to `send`. The entries only say where messages come from and go.
 */
export class WorkerHost {
  readonly #engine: Promise<SessionEngine>;

  constructor(engine: Promise<SessionEngine>) {
    this.#engine = engine;
  }

  /**
   * Serves one connection. Resolves false at once without a connect message (as
   * `parseConnectMessage` found one: well-formed, from the worker's own origin) and a port;
   * otherwise true once the first call on the port settled, so a service worker can keep itself
   * alive until then.
   *
   * @param engineTabId The tab's identity for the engine, when the host knows one the page
   *   cannot forge (a service worker's client id); by default the page's own tab id.
   */
  async accept(
    connect: ConnectMessage | undefined,
    ports: readonly MessagePort[],
    send: SendToTab,
    engineTabId?: string,
  ): Promise<boolean> {
    const port = ports[0];
    if (!connect || !port) return false;
    const engine = await this.#engine;
    const tabId = engineTabId ?? connect.tabId;
    let settled = () => {};
    const firstCall = new Promise<void>((resolve) => (settled = resolve));
    const api = createTabApi(engine, tabId);
    engine.subscribe(tabId, async (event) => {
      if (!(await send(eventMessage(connect.tabId, event)))) engine.disconnectTab(tabId);
    });
    // A restarted worker forgot the tab: take the token it brought before the call, which would
    // otherwise be refused and retried (R10). The call's own outcome reports any refusal.
    if (connect.restore && !engine.getState(tabId).verified) {
      await api.restoreIdentityToken(connect.restore.identityToken, connect.restore.sessionVersion);
    }
    Comlink.expose(settling(api, settled), port as Comlink.Endpoint);
    await within(firstCall, FIRST_CALL_BOUND_MS);
    return true;
  }

  /** Resolves when the engine's background work is done (for `ExtendableEvent.waitUntil`). */
  async whenIdle(): Promise<void> {
    await (await this.#engine).whenIdle();
  }
}

/** The same API, calling `settled` whenever one of its calls has settled. */
function settling(api: TabApi, settled: () => void): TabApi {
  const wrapped: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(api) as Array<
    [string, (...args: unknown[]) => Promise<unknown>]
  >) {
    wrapped[name] = (...args: unknown[]) => method(...args).finally(settled);
  }
  return wrapped as unknown as TabApi;
}

/**
 * A {@link SendToTab} over `post`, with a port of its own for each event to confirm on (a
 * SharedWorker's port to the tab, a service worker's window client). Resolves false as soon as
 * `post` reports the tab gone — which `post` may learn after it posted.
 */
export function sendWithAckPort(post: PostToTab): SendToTab {
  return async (message) => {
    const { port1, port2 } = new MessageChannel();
    const confirmed = new Promise<true>((resolve) => (port1.onmessage = () => resolve(true)));
    const posted = post(message, [port2]);
    const goneOrSilent = Promise.resolve(posted).then(async (live) => {
      if (live) await within(confirmed, ACK_BOUND_MS);
      return live;
    });
    const outcome = await Promise.race([confirmed, goneOrSilent]);
    port1.close();
    return outcome;
  };
}
