import {
  PROTOCOL_VERSION,
  type HostMessage,
  type TabApi,
  type TabMessage,
  type WorkerEvent,
} from './protocol.ts';
import { serializeError, TabwardenError } from './errors.ts';
import type { SessionEngine } from './session-engine.ts';
import { createTabApi } from './tab-api.ts';

/**
 * Posts one message to a tab. Resolves (or returns) false when the tab is known to be gone, which
 * a service worker can ask the browser; a port cannot tell, so the others return true.
 */
export type PostToTab = (message: HostMessage) => boolean | Promise<boolean>;

type Method = Exclude<keyof TabApi, 'subscribe'>;
// What a tab may call, once each: the Record type makes the compiler refuse a missing one when
// TabApi grows (a message names its method as a string).
const CALLABLE: Record<Method, true> = {
  hello: true,
  setIdentityToken: true,
  restoreIdentityToken: true,
  startConversation: true,
  sendMessage: true,
  listEntries: true,
  listOutbox: true,
  retryMessage: true,
  discardMessage: true,
  networkOnline: true,
  followEntries: true,
  clearSession: true,
  getState: true,
  disconnect: true,
};

/**
 * Starts the engine a host serves. While the start cannot finish (an IndexedDB upgrade blocked by
 * another tab that holds the previous schema open), it calls `unavailable` with a coded error
 * saying why, and keeps waiting; with `undefined` once it can go on. A start that fails rejects,
 * and the host starts anew for the next message.
 */
export type StartEngine = (unavailable: (why: TabwardenError | undefined) => void) => Promise<SessionEngine>;

/** One start of the engine, and why it cannot finish now once it says so. */
interface EngineStart {
  engine: Promise<SessionEngine>;
  unavailable: Promise<TabwardenError>;
  block: (why: TabwardenError) => void;
  failed: boolean;
}

/** One connected tab, as the host holds it. */
interface HostedTab {
  api: TabApi;
  /** Where this tab's messages go now: the route its latest connect opened. */
  post: PostToTab;
  /** Settles once the latest connect was handled: calls wait for it (R10: restore first). */
  ready: Promise<void>;
  /** Calls running, by id: a re-sent call joins its first run (single flight by id). */
  running: Map<string, Promise<unknown>>;
  /** Events waiting for the tab's ack, by id. */
  acks: Map<string, () => void>;
  lastEventId: number;
}

/**
 * The host end of the tab channel (the page end is src/page/tab-channel.ts): serves each tab's
 * {@link TabApi} over {@link TabMessage}s and carries the engine's events to it, confirmed by
 * ack. It knows nothing of transports: a service worker, a SharedWorker or an in-page leader hands
 * it each message with the tab's identity and a way to post back. A worker holds the Web Lock
 * named after `instanceId` for its life (`startHost` in src/sw/create-engine.ts): tabs wait for
 * it to learn of the host's end.
 *
 * @example
 * ```ts
 * const host = new TabChannelHost((unavailable) => createEngine(config, location.href, {}, unavailable), crypto.randomUUID());
 * port.onmessage = (event) => {
 *   const message = parseTabMessage(event.data);
 *   if (message) void host.receive(message.tabId, message, (reply) => (port.postMessage(reply), true));
 * };
 * ```
 */
export class TabChannelHost {
  /** Made when this host started: a tab that meets another one knows the host restarted. */
  readonly instanceId: string;
  readonly #startEngine: StartEngine;
  #start: EngineStart;
  readonly #tabs = new Map<string, HostedTab>();

  constructor(startEngine: StartEngine, instanceId: string) {
    this.#startEngine = startEngine;
    // Started at once: a (re)started worker has its engine ready by the first call (R10).
    this.#start = this.#begin();
    this.instanceId = instanceId;
  }

  /** What a (re)started host tells every tab: connect to me (R10). */
  get started(): HostMessage {
    return { type: 'tabwarden:started', protocol: PROTOCOL_VERSION, tabId: '*', instanceId: this.instanceId };
  }

  /**
   * Handles one message of the tab the engine knows as `tabId` (a service worker's client id, else
   * the page's own tab id); `post` answers that tab. Resolves once the message was handled (a
   * call: answered), for a service worker's `waitUntil`.
   */
  async receive(tabId: string, message: TabMessage, post: PostToTab): Promise<void> {
    // The one await before the tab is looked up (or, for a connect, registered): messages of a
    // tab are handled in the order they came.
    const engine = await this.#engine();
    if (engine instanceof TabwardenError) return this.#unavailable(engine, message, post);
    if (message.type === 'tabwarden:connect') return this.#connect(engine, tabId, message, post);
    const tab = this.#tabs.get(tabId);
    if (!tab) {
      // This host never saw the tab: it was connected to an instance that is gone.
      await post({ ...this.started, tabId: message.tabId });
      return;
    }
    if (message.type === 'tabwarden:ack') {
      tab.acks.get(message.id)?.();
      return;
    }
    if (!Object.hasOwn(CALLABLE, message.method)) return;
    const method = message.method as Method;
    let run = tab.running.get(message.id);
    if (!run) {
      const invoke = tab.api[method] as (...args: unknown[]) => Promise<unknown>;
      run = tab.ready.then(() => invoke(...message.args));
      tab.running.set(message.id, run);
    }
    const result = await run.catch((error: unknown) => ({ ok: false, error: serializeError(error) }));
    tab.running.delete(message.id);
    await tab.post({
      type: 'tabwarden:reply',
      protocol: PROTOCOL_VERSION,
      tabId: message.tabId,
      id: message.id,
      result,
    });
    if (method === 'disconnect') this.#forget(tabId);
  }

  /** Resolves when the engine's background work is done (for `ExtendableEvent.waitUntil`). */
  async whenIdle(): Promise<void> {
    const engine = await this.#engine();
    if (!(engine instanceof TabwardenError)) await engine.whenIdle();
  }

  #begin(): EngineStart {
    const start = { failed: false } as EngineStart;
    const blocked = () => new Promise<TabwardenError>((resolve) => (start.block = resolve));
    start.unavailable = blocked();
    start.engine = this.#startEngine((why) => {
      if (why) start.block(why);
      // It goes on: calls wait for the engine again.
      else start.unavailable = blocked();
    });
    // A failed start is tried again by the next message (the blocker may be gone by then).
    start.engine.catch(() => (start.failed = true));
    return start;
  }

  /**
   * The engine, or why it cannot start now: as soon as the start says so, so that a call is
   * answered with that error at once rather than wait for a blocker that may never go (R10).
   */
  async #engine(): Promise<SessionEngine | TabwardenError> {
    if (this.#start.failed) this.#start = this.#begin();
    const { engine, unavailable } = this.#start;
    // The engine first: once it started, an earlier `unavailable` no longer counts.
    return Promise.race([engine, unavailable]).catch((error: unknown) =>
      error instanceof TabwardenError
        ? error
        : new TabwardenError('ERR_STORAGE', 'The session engine failed to start', { cause: error }),
    );
  }

  /**
   * Answers a tab while the engine cannot start: its connect is welcomed with a blank state (a
   * tab never takes a lower version over its own), the handshake too, so the page gets ready,
   * and every other call fails with `why` at once. The tab is not registered: once the engine
   * started, its next call is answered `started`, and it re-connects (re-presenting its token)
   * and re-sends that call, which then works without a reload.
   */
  async #unavailable(why: TabwardenError, message: TabMessage, post: PostToTab): Promise<void> {
    const state = { sessionVersion: 0, verified: false };
    const reply = { protocol: PROTOCOL_VERSION, tabId: message.tabId };
    if (message.type === 'tabwarden:connect') {
      await post({ ...reply, type: 'tabwarden:welcome', instanceId: this.instanceId, state });
    } else if (message.type === 'tabwarden:call') {
      const result =
        message.method === 'hello'
          ? { protocol: PROTOCOL_VERSION, state }
          : { ok: false, error: serializeError(why) };
      await post({ ...reply, type: 'tabwarden:reply', id: message.id, result });
    }
  }

  /**
   * Delivers the outbox now, for a service worker's Background Sync with no tab open: true once
   * it is empty of pending messages, false when the network still fails (R12).
   */
  async deliverOutbox(): Promise<boolean> {
    const engine = await this.#engine();
    // No engine (an upgrade is blocked): nothing delivered; the browser tries the sync again.
    return engine instanceof TabwardenError ? false : engine.deliverOutbox();
  }

  async #connect(
    engine: SessionEngine,
    tabId: string,
    message: TabMessage & { type: 'tabwarden:connect' },
    post: PostToTab,
  ): Promise<void> {
    let tab = this.#tabs.get(tabId);
    if (!tab) {
      tab = {
        api: createTabApi(engine, tabId),
        post,
        ready: Promise.resolve(),
        running: new Map(),
        acks: new Map(),
        lastEventId: 0,
      };
      this.#tabs.set(tabId, tab);
      const hosted = tab;
      engine.subscribe(tabId, (event) => this.#deliver(tabId, hosted, message.tabId, event));
    }
    // Events sent on the previous route are not confirmed on this one: count them as confirmed.
    for (const confirm of tab.acks.values()) confirm();
    tab.post = post;
    const { api } = tab;
    const welcomed = tab.ready.then(async () => {
      const { restore } = message;
      // The one place a host takes back a tab's in-memory token (R10). Refused because the
      // session was cleared since the tab's version, the welcome says so and the tab clears (R7).
      const restored =
        restore && !engine.getState(tabId).verified
          ? await api.restoreIdentityToken(restore.identityToken, restore.sessionVersion)
          : undefined;
      const welcome: HostMessage = {
        type: 'tabwarden:welcome',
        protocol: PROTOCOL_VERSION,
        tabId: message.tabId,
        instanceId: this.instanceId,
        state: engine.getState(tabId),
      };
      if (restored) welcome.restored = restored;
      await post(welcome);
    });
    tab.ready = welcomed.catch(() => undefined);
    await welcomed;
  }

  /** Sends one event and resolves once the tab confirmed it or is known gone (the engine bounds the wait). */
  async #deliver(tabId: string, tab: HostedTab, pageTabId: string, event: WorkerEvent): Promise<void> {
    const id = String(++tab.lastEventId);
    const confirmed = new Promise<void>((resolve) => tab.acks.set(id, resolve));
    const posted = tab.post({
      type: 'tabwarden:event',
      protocol: PROTOCOL_VERSION,
      tabId: pageTabId,
      id,
      event,
    });
    const gone = Promise.resolve(posted).then((live) => (live ? confirmed : this.#forget(tabId)));
    await Promise.race([confirmed, gone]);
    tab.acks.delete(id);
  }

  #forget(tabId: string): void {
    const tab = this.#tabs.get(tabId);
    if (!tab) return;
    this.#tabs.delete(tabId);
    for (const confirm of tab.acks.values()) confirm();
    // Only a tab of a started engine is registered.
    void this.#start.engine.then((engine) => engine.disconnectTab(tabId));
  }
}
