// The SharedWorker entry (R11's second choice, where no service worker can control the page:
// insecure context, service workers disabled). A Shift+Reload page is no such case: the page stub
// asks the active service worker to claim it, so that a profile never runs two engines side by
// side. It lives while any tab is connected.
import { parseTabMessage } from '../core/validate-message.ts';
import { decodeWorkerConfig } from '../core/worker-config.ts';
import { startHost } from './create-engine.ts';

const worker = self as unknown as SharedWorkerGlobalScope;
const config = decodeWorkerConfig(new URL(worker.location.href).searchParams.get('config'));
const host = startHost(config, worker.location.href);

// Each tab's connect opens a port of its own, which carries its messages until its next connect.
worker.addEventListener('connect', (event) => {
  const tabPort = event.ports[0];
  if (!tabPort) return;
  tabPort.addEventListener('message', (incoming) => {
    // A port has no origin: only same-origin pages can construct this worker.
    const message = parseTabMessage(incoming.data);
    if (!message) return;
    // A port has no close event either, so a SharedWorker cannot tell a gone tab: pagehide tells it.
    void host.then((ready) =>
      ready.receive(message.tabId, message, (reply) => {
        tabPort.postMessage(reply);
        return true;
      }),
    );
  });
  tabPort.start();
});
