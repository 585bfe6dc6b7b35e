// The in-page host (R11's last resort): the tab elected leader runs the engine itself and serves
// the other tabs over a BroadcastChannel. Loaded with a dynamic import only by the leader, so
// jose and the engine never weigh on the page stub.
import { within } from '../core/clock.ts';
import { eventMessage, reconnectRequest } from '../core/event-message.ts';
import {
  ACK_BOUND_MS,
  PROTOCOL_VERSION,
  type EventMessage,
  type LeaderMessage,
  type TabApi,
  type WorkerEvent,
} from '../core/protocol.ts';
import { createTabApi } from '../core/tab-api.ts';
import { parseLeaderMessage } from '../core/validate-leader-message.ts';
import type { WorkerConfig } from '../core/worker-config.ts';
import { createEngine } from './create-engine.ts';

type CallableMethod = Exclude<keyof TabApi, 'subscribe'>;
// What a follower may call, once each: the Record type makes the compiler refuse a missing one
// when TabApi grows (a BroadcastChannel message names its method as a string).
const CALLABLE: Record<CallableMethod, true> = {
  hello: true,
  setIdentityToken: true,
  restoreIdentityToken: true,
  startConversation: true,
  sendMessage: true,
  listEntries: true,
  followEntries: true,
  clearSession: true,
  getState: true,
  disconnect: true,
};

/** The leader, as its own tab sees it. */
export interface Leader {
  /** Calls the engine for the leader's own tab, without the channel. */
  call(method: CallableMethod, args: unknown[]): Promise<unknown>;
  /**
   * Tells every tab, this one included, that a (new) leader serves: each re-presents its
   * in-memory token (R10) and resends calls the old leader never answered.
   */
  announce(): void;
  close(): void;
}

/**
 * Starts the engine in this tab and serves every tab on `channel`. Events for the leader's own
 * tab go to `ownSink` directly (a BroadcastChannel does not deliver to its sender).
 */
export async function startLeader(
  config: WorkerConfig,
  channel: BroadcastChannel,
  ownTabId: string,
  ownSink: (message: EventMessage) => void | Promise<void>,
): Promise<Leader> {
  // Listen before the engine is up: calls that arrive meanwhile wait for it instead of being lost.
  const engineReady = createEngine(config, location.href);
  const apis = new Map<string, TabApi>();
  const acks = new Map<string, () => void>();
  const post = (message: LeaderMessage) => channel.postMessage(message);

  const sendEvent = (tabId: string, event: WorkerEvent): Promise<void> => {
    if (tabId === ownTabId) {
      return Promise.resolve(ownSink(eventMessage(tabId, event)));
    }
    const ackId = crypto.randomUUID();
    const confirmed = new Promise<void>((resolve) => acks.set(ackId, resolve));
    post({ ...eventMessage(tabId, event), ackId });
    return within(confirmed, ACK_BOUND_MS).finally(() => acks.delete(ackId));
  };

  const apiFor = async (tabId: string): Promise<TabApi> => {
    const engine = await engineReady;
    let api = apis.get(tabId);
    if (!api) {
      api = createTabApi(engine, tabId);
      apis.set(tabId, api);
      engine.subscribe(tabId, (event) => sendEvent(tabId, event));
    }
    return api;
  };

  const invoke = async (tabId: string, method: CallableMethod, args: unknown[]) =>
    ((await apiFor(tabId))[method] as (...a: unknown[]) => Promise<unknown>)(...args);

  const onMessage = async (event: MessageEvent) => {
    const message = parseLeaderMessage(event.data);
    if (message?.type === 'tabwarden:ack') acks.get(message.ackId)?.();
    if (message?.type !== 'tabwarden:call' || !Object.hasOwn(CALLABLE, message.method)) return;
    const { tabId, callId } = message;
    const result = await invoke(tabId, message.method as CallableMethod, message.args);
    post({ type: 'tabwarden:reply', protocol: PROTOCOL_VERSION, tabId, callId, result });
    if (message.method === 'disconnect') apis.delete(tabId);
  };
  channel.addEventListener('message', onMessage);

  const engine = await engineReady;
  return {
    call: (method, args) => invoke(ownTabId, method, args),
    announce() {
      // R10: a new leader knows no tab yet.
      const event = reconnectRequest(engine.sessionVersion);
      post({ ...eventMessage('*', event), ackId: crypto.randomUUID() });
      void ownSink(eventMessage(ownTabId, event));
    },
    close: () => channel.removeEventListener('message', onMessage),
  };
}
