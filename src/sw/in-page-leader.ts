// The in-page host (R11's last resort): the tab elected leader runs the engine itself and serves
// every tab over the tab channel — the others on a BroadcastChannel, its own tab on a port.
// Loaded with a dynamic import only by the leader, so jose and the engine never weigh on the
// page stub.
import type { HostMessage } from '../core/protocol.ts';
import { parseTabMessage } from '../core/validate-message.ts';
import type { WorkerConfig } from '../core/worker-config.ts';
import { startHost } from './create-engine.ts';

/**
 * Starts the engine in this tab and serves the tab channel on `channel` (other tabs) and `local`
 * (this tab's own port), then tells every tab it started: each re-connects, re-presenting its
 * in-memory token, and re-sends what the old leader never answered (R10).
 */
export async function startLeader(
  config: WorkerConfig,
  channel: BroadcastChannel,
  local: MessagePort,
): Promise<void> {
  const host = await startHost(config, location.href);
  const serve = (data: unknown, post: (message: HostMessage) => void) => {
    const message = parseTabMessage(data);
    if (!message) return;
    void host.receive(message.tabId, message, (reply) => {
      post(reply);
      return true;
    });
  };
  channel.addEventListener('message', (event) => serve(event.data, (reply) => channel.postMessage(reply)));
  local.onmessage = (event) => serve(event.data, (reply) => local.postMessage(reply));
  channel.postMessage(host.started);
  local.postMessage(host.started);
}
