// Live JavaScript heap of a page or a service worker, after a full garbage collection, read
// through the DevTools protocol (HeapProfiler.collectGarbage, then Runtime.getHeapUsage).
import type { Page } from 'playwright-core';
import type { WorkerSession } from './worker-target.ts';

interface Sender {
  send<T = unknown>(method: string, params?: Record<string, unknown>): Promise<T>;
}

/** Bytes in use after GC (twice: finalizers may free more on the second pass). */
async function usedAfterGc(session: Sender): Promise<number> {
  await session.send('HeapProfiler.collectGarbage');
  await session.send('HeapProfiler.collectGarbage');
  const { usedSize } = await session.send<{ usedSize: number }>('Runtime.getHeapUsage');
  return usedSize;
}

export async function pageHeap(page: Page): Promise<number> {
  const session = await page.context().newCDPSession(page);
  try {
    return await usedAfterGc(session as unknown as Sender);
  } finally {
    await session.detach();
  }
}

export function workerHeap(worker: WorkerSession): Promise<number> {
  return usedAfterGc(worker);
}
