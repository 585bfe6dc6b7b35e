// The worker host every entry shares (src/sw/worker-host.ts), over Node MessageChannels with
// comlink: what it does with a connect message before it serves the call the message brought.
import * as Comlink from 'comlink';
import { MessageChannel } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import {
  PROTOCOL_VERSION,
  type ConnectMessage,
  type SentMessage,
  type RpcResult,
  type TabApi,
} from '../../src/core/protocol.ts';
import { parseConnectMessage } from '../../src/core/validate-message.ts';
import { WorkerHost } from '../../src/sw/worker-host.ts';
import { createWorld, unwrap, type Tab, type World } from '../helpers/world.ts';

const ORIGIN = 'https://app.example';
let world: World;
afterEach(() => world?.close());

/** One call over a fresh port through `host`, the way the service-worker link makes each call. */
async function callThrough<T>(
  host: WorkerHost,
  connect: Partial<ConnectMessage>,
  call: (api: Comlink.Remote<TabApi>) => Promise<T>,
): Promise<T> {
  const { port1, port2 } = new MessageChannel();
  const message = { type: 'tabwarden:connect', protocol: PROTOCOL_VERSION, tabId: 'page-tab', ...connect };
  const connectMessage = parseConnectMessage(message, ORIGIN, ORIGIN);
  void host.accept(connectMessage, [port1 as unknown as MessagePort], async () => true, 'tab-1');
  try {
    return await call(Comlink.wrap<TabApi>(port2 as unknown as Comlink.Endpoint));
  } finally {
    port2.close();
  }
}

const send = (api: Comlink.Remote<TabApi>): Promise<RpcResult<SentMessage>> => api.sendMessage('hi', 'm-1');
const state = (api: Comlink.Remote<TabApi>) => api.getState();

/** A world whose tab 1 started a conversation and whose worker then restarted (R10). */
async function restartedWithSession(): Promise<{ tab: Tab; token: string; host: WorkerHost }> {
  world = await createWorld({ tabs: 1 });
  const [tab] = world.tabs as [Tab];
  const token = await world.corpus.mintGood('alice');
  await unwrap(tab.api.setIdentityToken(token));
  await unwrap(tab.api.startConversation());
  await world.restartWorker();
  return { tab, token, host: new WorkerHost(Promise.resolve(world.engine)) };
}

describe('WorkerHost', () => {
  it('R10: a call that brings the tab’s token to a restarted worker succeeds at once (no refusal and retry)', async () => {
    const { tab, token, host } = await restartedWithSession();
    const sessionVersion = (await tab.api.getState()).sessionVersion;
    const sent = await callThrough(host, { restore: { identityToken: token, sessionVersion } }, send);
    expect(sent).toMatchObject({ ok: true, value: { text: 'hi' } });
    expect(await callThrough(host, {}, state)).toMatchObject({ verified: true });
  });

  it('R10: without the token the restarted worker refuses the call with ERR_NOT_VERIFIED', async () => {
    const { host } = await restartedWithSession();
    const sent = await callThrough(host, {}, send);
    expect(sent).toMatchObject({ ok: false, error: { code: 'ERR_NOT_VERIFIED' } });
  });

  it('R7: a token brought for a session cleared since does not verify the tab; the call is refused', async () => {
    const { tab, token, host } = await restartedWithSession();
    const staleVersion = (await tab.api.getState()).sessionVersion;
    await unwrap(tab.api.clearSession(false));
    const restore = { identityToken: token, sessionVersion: staleVersion };
    const sent = await callThrough(host, { restore }, send);
    expect(sent).toMatchObject({ ok: false, error: { code: 'ERR_NOT_VERIFIED' } });
    expect(await callThrough(host, {}, state)).toMatchObject({ verified: false });
  });

  it('R13: a connect message from another origin is not served', async () => {
    world = await createWorld({ tabs: 0 });
    const host = new WorkerHost(Promise.resolve(world.engine));
    const { port1 } = new MessageChannel();
    const message = { type: 'tabwarden:connect', protocol: PROTOCOL_VERSION, tabId: 'page-tab' };
    const connect = parseConnectMessage(message, 'https://evil.example', ORIGIN);
    const served = await host.accept(connect, [port1 as unknown as MessagePort], async () => true);
    expect(served).toBe(false);
    port1.close();
  });
});
