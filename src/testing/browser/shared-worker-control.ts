// SharedWorkers driven through Chromium's DevTools protocol: listing them, ending them as a
// crash would, and taking them off the network (a context's offline switch does not reach them).
import type { Browser, CDPSession } from 'playwright-core';

type TargetInfo = { type: string; url: string; targetId: string };

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
 * (an old-style, non-flat target session) until reconnected.
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
  // Sends one command to a worker and waits for its answer.
  const command = async (sessionId: string, method: string, params: object) => {
    const id = ++lastId;
    const answered = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${method}: no answer from the SharedWorker`)), 5_000);
      answers.set(id, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    await cdp.send('Target.sendMessageToTarget', {
      sessionId,
      message: JSON.stringify({ id, method, params }),
    });
    await answered;
  };
  const conditions = (offline: boolean) => ({
    offline,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: -1,
  });

  const sessions: string[] = [];
  for (const targetId of await sharedWorkerTargets(cdp, origin)) {
    const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: false });
    sessions.push(sessionId);
    await command(sessionId, 'Network.enable', {});
    await command(sessionId, 'Network.emulateNetworkConditions', conditions(true));
  }
  if (sessions.length === 0) throw new Error(`takeSharedWorkersOffline: ${origin} has no SharedWorker`);
  return async () => {
    try {
      for (const sessionId of sessions) {
        await command(sessionId, 'Network.emulateNetworkConditions', conditions(false));
        await cdp.send('Target.detachFromTarget', { sessionId });
      }
    } finally {
      await cdp.detach().catch(() => undefined);
    }
  };
}
