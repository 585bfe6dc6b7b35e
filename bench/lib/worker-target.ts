// A DevTools session on a service worker. Playwright opens CDP sessions on pages only, so this
// attaches to the worker's target from a browser-level session and relays commands through it
// (`Target.sendMessageToTarget`), which is enough for heap and profiler commands.
import type { Browser, CDPSession } from 'playwright-core';

export interface WorkerSession {
  send<T = unknown>(method: string, params?: Record<string, unknown>): Promise<T>;
  detach(): Promise<void>;
}

/** Attaches to the one running service worker whose script URL contains `urlPart`. */
export async function attachToServiceWorker(browser: Browser, urlPart: string): Promise<WorkerSession> {
  const browserSession: CDPSession = await browser.newBrowserCDPSession();
  const { targetInfos } = await browserSession.send('Target.getTargets');
  const workers = targetInfos.filter((t) => t.type === 'service_worker' && t.url.includes(urlPart));
  if (workers.length !== 1) {
    await browserSession.detach();
    throw new Error(`expected one service worker matching ${urlPart}, found ${workers.length}`);
  }
  const { sessionId } = await browserSession.send('Target.attachToTarget', {
    targetId: workers[0]!.targetId,
    flatten: false,
  });
  let nextId = 1;
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  browserSession.on('Target.receivedMessageFromTarget', (event) => {
    if (event.sessionId !== sessionId) return;
    const message = JSON.parse(event.message) as {
      id?: number;
      result?: unknown;
      error?: { message: string };
    };
    const waiter = message.id === undefined ? undefined : pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id!);
    if (message.error) waiter.reject(new Error(message.error.message));
    else waiter.resolve(message.result);
  });
  return {
    send<T>(method: string, params: Record<string, unknown> = {}) {
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
        browserSession
          .send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) })
          .catch(reject);
      });
    },
    async detach() {
      await browserSession.send('Target.detachFromTarget', { sessionId }).catch(() => undefined);
      await browserSession.detach().catch(() => undefined);
    },
  };
}
