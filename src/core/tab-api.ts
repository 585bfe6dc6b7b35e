import { serializeError } from './errors.ts';
import { PROTOCOL_VERSION, type RpcResult, type TabApi } from './protocol.ts';
import type { SessionEngine } from './session-engine.ts';

async function settle<T>(work: () => Promise<T>): Promise<RpcResult<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    return { ok: false, error: serializeError(error) };
  }
}

/**
 * The {@link TabApi} one connected tab may call, bound to its id. The tab-channel host serves it
 * to that tab only, so a page can neither name another tab nor see the engine itself. Outcomes
 * are {@link RpcResult}s, so error codes survive structured cloning.
 *
 * @example
 * ```ts
 * const api = createTabApi(engine, 'tab-1');
 * const result = await api.startConversation(); // { ok: true, value } or { ok: false, error }
 * ```
 */
export function createTabApi(engine: SessionEngine, tabId: string): TabApi {
  engine.connectTab(tabId);
  return {
    async hello() {
      return { protocol: PROTOCOL_VERSION, state: engine.getState(tabId) };
    },
    setIdentityToken: (token) => settle(() => engine.setIdentityToken(tabId, token)),
    restoreIdentityToken: (token, knownSessionVersion) =>
      settle(() => engine.restoreIdentityToken(tabId, token, knownSessionVersion)),
    startConversation: () => settle(() => engine.startConversation(tabId)),
    sendMessage: (text, clientMessageId) => settle(() => engine.sendMessage(tabId, text, clientMessageId)),
    listEntries: (afterSeq) => settle(() => engine.listEntries(tabId, afterSeq)),
    listOutbox: () => settle(() => engine.listOutbox(tabId)),
    retryMessage: (clientMessageId) => settle(() => engine.retryMessage(tabId, clientMessageId)),
    discardMessage: (clientMessageId) => settle(() => engine.discardMessage(tabId, clientMessageId)),
    async networkOnline() {
      engine.networkOnline();
    },
    followEntries: (afterSeq) => settle(() => engine.followEntries(tabId, afterSeq)),
    clearSession: (shouldEndSession) => settle(() => engine.clearSession(tabId, shouldEndSession === true)),
    async getState() {
      return engine.getState(tabId);
    },
    async subscribe(listener) {
      engine.subscribe(tabId, listener);
    },
    async disconnect() {
      engine.disconnectTab(tabId);
    },
  };
}
