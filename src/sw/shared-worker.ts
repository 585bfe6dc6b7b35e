// The SharedWorker entry (R11's second choice, where no service worker controls the page:
// insecure context, service workers disabled, Shift+Reload). It lives while any tab is connected.
import { parseConnectMessage } from '../core/validate-message.ts';
import { decodeWorkerConfig } from '../core/worker-config.ts';
import { createEngine } from './create-engine.ts';
import { sendWithAckPort, WorkerHost } from './worker-host.ts';

const worker = self as unknown as SharedWorkerGlobalScope;
// Held for the worker's whole life: tabs wait on it to learn that the worker is gone, since a
// port to a dead worker just goes silent. Must match SHARED_WORKER_LOCK in the page stub.
void worker.navigator.locks?.request('tabwarden:shared-worker', () => new Promise<never>(() => {}));
const config = decodeWorkerConfig(new URL(worker.location.href).searchParams.get('config'));
const host = new WorkerHost(createEngine(config, worker.location.href));
const ownOrigin = worker.location.origin;

worker.addEventListener('connect', (event) => {
  const tabPort = event.ports[0];
  if (!tabPort) return;
  // A port has no close event, so a SharedWorker cannot tell a gone tab: pagehide tells it.
  const send = sendWithAckPort((out, transfer) => {
    tabPort.postMessage(out, transfer);
    return true;
  });
  // A SharedWorker's connect carries no origin: only same-origin pages can construct it.
  tabPort.addEventListener('message', (message) => {
    void host.accept(parseConnectMessage(message.data, ownOrigin, ownOrigin), message.ports, send);
  });
  tabPort.start();
});
