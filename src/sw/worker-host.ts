import * as Comlink from 'comlink';
import { PROTOCOL_VERSION, type EventMessage, type WorkerEvent } from '../core/protocol.ts';
import type { SessionEngine } from '../core/session-engine.ts';
import { createTabApi } from '../core/tab-api.ts';
import { parseConnectMessage } from '../core/validate-message.ts';

/** Posts one event message to a tab; resolves when the tab confirmed on the port it was given. */
export type PostToTab = (message: EventMessage, transfer: MessagePort[]) => void;

/**
 * What every worker entry shares: validate a connect message (R13), serve the tab's
 * {@link TabApi} on the port it brought (comlink), and route the engine's events for that tab
 * to `post` with an acknowledgement port. The entries only say where messages come from and go.
 */
export class WorkerHost {
  readonly #engine: Promise<SessionEngine>;
  readonly #ownOrigin: string;

  constructor(engine: Promise<SessionEngine>, ownOrigin: string) {
    this.#engine = engine;
    this.#ownOrigin = ownOrigin;
  }

  /**
   * Handles one incoming message. Ignores (returns false for) anything that is not a
   * well-formed connect message from the worker's own origin with a port.
   */
  async accept(
    data: unknown,
    origin: string,
    ports: readonly MessagePort[],
    post: PostToTab,
  ): Promise<boolean> {
    const connect = parseConnectMessage(data, origin, this.#ownOrigin);
    const port = ports[0];
    if (!connect || !port) return false;
    const engine = await this.#engine;
    const { tabId } = connect;
    Comlink.expose(createTabApi(engine, tabId), port as Comlink.Endpoint);
    engine.subscribe(tabId, (event) => deliver(post, tabId, event));
    return true;
  }

  /** Resolves when the engine's background work is done (for `ExtendableEvent.waitUntil`). */
  async whenIdle(): Promise<void> {
    await (await this.#engine).whenIdle();
  }
}

/** Sends `event` to one tab and resolves on its acknowledgement (the engine bounds the wait). */
export function deliver(post: PostToTab, tabId: string, event: WorkerEvent): Promise<void> {
  const { port1, port2 } = new MessageChannel();
  return new Promise<void>((resolve) => {
    port1.onmessage = () => {
      port1.close();
      resolve();
    };
    post({ type: 'tabwarden:event', protocol: PROTOCOL_VERSION, tabId, event }, [port2]);
  });
}
