/**
 * The name of the Web Lock a host instance of the engine holds for its life. A tab waits for it
 * once welcomed: the browser grants it when the instance ends (a stopped service worker, a
 * SharedWorker's process gone, the leader's tab closed), and the tab re-connects at once (R10).
 * The host (src/sw/create-engine.ts) takes it; the page's tab channel waits for it.
 */
export function instanceLockName(instanceId: string): string {
  return `tabwarden:host:${instanceId}`;
}
