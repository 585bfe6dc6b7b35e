// SharedWorkers driven through Chromium's DevTools protocol: listing them, ending them as a
// crash would, and taking them off the network (a context's offline switch does not reach them).
import type { Browser, CDPSession } from 'playwright-core';

type TargetInfo = { type: string; url: string; targetId: string };
/** A SharedWorker attached through an old-style (non-flat) target session. */
type Attached = { targetId: string; sessionId: string };

async function sharedWorkerTargets(cdp: CDPSession, origin: string): Promise<string[]> {
  const { targetInfos } = (await cdp.send('Target.getTargets')) as { targetInfos: TargetInfo[] };
  return targetInfos
    .filter((target) => target.type === 'shared_worker' && target.url.startsWith(`${origin}/`))
    .map((target) => target.targetId);
}

/** The ids of the SharedWorkers of `origin` that Chromium runs now (DevTools protocol targets). */
export async function listSharedWorkers(browser: Browser, origin: string): Promise<string[]> {
  const cdp = await browser.newBrowserCDPSession();
  try {
    return await sharedWorkerTargets(cdp, origin);
  } finally {
    await cdp.detach().catch(() => undefined);
  }
}

/**
 * Terminates every SharedWorker of `origin` through the DevTools protocol, as a crash of its
 * process would, and waits until Chromium no longer lists it. Resolves with how many it ended.
 */
export async function terminateSharedWorkers(browser: Browser, origin: string): Promise<number> {
  const cdp = await browser.newBrowserCDPSession();
  try {
    const list = () => sharedWorkerTargets(cdp, origin);
    const targets = await list();
    for (const targetId of targets) await cdp.send('Target.closeTarget', { targetId });
    const started = Date.now();
    while ((await list()).some((id) => targets.includes(id))) {
      if (Date.now() - started > 5_000) throw new Error('terminateSharedWorkers: a SharedWorker did not end');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return targets.length;
  } finally {
    await cdp.detach().catch(() => undefined);
  }
}

/**
 * Takes every SharedWorker of `origin` off the network through the DevTools protocol, and
 * resolves with a function that reconnects them. Needed because Chromium's context-wide offline
 * switch (`context.setOffline`, the kit's `goOffline`) reaches pages and service workers but not
 * a SharedWorker's own fetches (measured: they still reach the server). The worker stays attached
 * (an old-style, non-flat target session) until reconnected; one that ended meanwhile (its last
 * tab closed) has no network left to restore and is skipped.
 */
export async function takeSharedWorkersOffline(
  browser: Browser,
  origin: string,
): Promise<() => Promise<void>> {
  const cdp = await browser.newBrowserCDPSession();
  let lastId = 0;
  const answers = new Map<number, () => void>();
  cdp.on('Target.receivedMessageFromTarget', ({ message }) => {
    const { id } = JSON.parse(message) as { id?: number };
    if (id !== undefined) answers.get(id)?.();
  });
  // A worker that ends (its last tab closed) never answers, and Chromium sends no detach for an
  // old-style session: target discovery tells when it is destroyed.
  const destroyed = new Set<string>();
  const onDestroyed = new Map<string, () => void>();
  cdp.on('Target.targetDestroyed', ({ targetId }) => {
    destroyed.add(targetId);
    onDestroyed.get(targetId)?.();
  });
  await cdp.send('Target.setDiscoverTargets', { discover: true });
  // Sends one command to a worker and waits for its answer, or for the worker to end.
  const command = async (worker: Attached, method: string, params: object): Promise<'answered' | 'ended'> => {
    if (destroyed.has(worker.targetId)) return 'ended';
    const id = ++lastId;
    const answered = new Promise<'answered' | 'ended'>((resolve, reject) => {
      const settle = (outcome: 'answered' | 'ended') => {
        clearTimeout(timer);
        answers.delete(id);
        onDestroyed.delete(worker.targetId);
        resolve(outcome);
      };
      // No answer: ended after all if Chromium no longer lists it (it may not announce that).
      const timer = setTimeout(() => {
        void sharedWorkerTargets(cdp, origin).then((running) => {
          if (!running.includes(worker.targetId)) settle('ended');
          else reject(new Error(`${method}: no answer from the SharedWorker`));
        }, reject);
      }, 5_000);
      answers.set(id, () => settle('answered'));
      onDestroyed.set(worker.targetId, () => settle('ended'));
    });
    await cdp.send('Target.sendMessageToTarget', {
      sessionId: worker.sessionId,
      message: JSON.stringify({ id, method, params }),
    });
    return answered;
  };
  const conditions = (offline: boolean) => ({
    offline,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: -1,
  });

  const attached: Attached[] = [];
  for (const targetId of await sharedWorkerTargets(cdp, origin)) {
    const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: false });
    const worker = { targetId, sessionId };
    attached.push(worker);
    await command(worker, 'Network.enable', {});
    await command(worker, 'Network.emulateNetworkConditions', conditions(true));
  }
  if (attached.length === 0) throw new Error(`takeSharedWorkersOffline: ${origin} has no SharedWorker`);
  return async () => {
    try {
      for (const worker of attached) {
        // One that ended meanwhile has no network left to restore.
        if ((await command(worker, 'Network.emulateNetworkConditions', conditions(false))) === 'ended')
          continue;
        await cdp.send('Target.detachFromTarget', { sessionId: worker.sessionId });
      }
    } finally {
      await cdp.detach().catch(() => undefined);
    }
  };
}
