// The worker's half of the test kit's time machine (tabwarden/testing/playwright, `clock`). Only
// the test build of the worker bundles calls it (scripts/build-bundles.ts --test-clock); the
// shipped bundles do not contain it (test/scripts/test-clock-absent.test.ts proves it).
//
// A page's time is Playwright's `page.clock`; a worker's is this: the real clock shifted by an
// offset that the test moves forward. Tabs tell it over a BroadcastChannel (a live worker jumps
// at once and answers) and keep the offset in IndexedDB (a restarted worker starts there).
import { systemClock, type Clock } from '../core/clock.ts';
import { ShiftedClock } from '../core/shifted-clock.ts';

/** Where tabs and workers talk about time; also the IndexedDB database keeping the offset. */
export const TEST_CLOCK_CHANNEL = 'tabwarden:test-clock';

/** Page → worker: move to `offsetMs`. Worker → page: `jumped`, with the same `id`. */
export type TestClockMessage =
  { type: 'jump'; offsetMs: number; id: string } | { type: 'jumped'; offsetMs: number; id: string };

function readStoredOffset(): Promise<number> {
  return new Promise((resolve) => {
    const request = indexedDB.open(TEST_CLOCK_CHANNEL, 1);
    request.onupgradeneeded = () => request.result.createObjectStore('clock');
    request.onerror = () => resolve(0);
    request.onsuccess = () => {
      const db = request.result;
      const get = db.transaction('clock').objectStore('clock').get('offsetMs');
      get.onsuccess = () => {
        db.close();
        resolve(typeof get.result === 'number' ? get.result : 0);
      };
      get.onerror = () => {
        db.close();
        resolve(0);
      };
    };
  });
}

/**
 * The clock of a worker built for tests. In a page (the in-page transport's leader) it is the
 * page's own clock, which Playwright's `page.clock` already moves.
 */
export async function openTestClock(): Promise<Clock> {
  if ('document' in globalThis) return systemClock;
  // Listen before reading the stored offset: a jump told while a (re)starting worker reads it
  // would otherwise be missed twice — broadcast before the channel existed, stored after the read.
  const started: { clock?: ShiftedClock; toldMeanwhileMs: number } = { toldMeanwhileMs: 0 };
  const channel = new BroadcastChannel(TEST_CLOCK_CHANNEL);
  channel.addEventListener('message', (event: MessageEvent<TestClockMessage>) => {
    if (event.data?.type !== 'jump') return;
    if (started.clock) started.clock.jumpTo(event.data.offsetMs);
    else started.toldMeanwhileMs = Math.max(started.toldMeanwhileMs, event.data.offsetMs);
    const answer: TestClockMessage = { type: 'jumped', offsetMs: event.data.offsetMs, id: event.data.id };
    channel.postMessage(answer);
  });
  const storedMs = await readStoredOffset();
  started.clock = new ShiftedClock(Math.max(storedMs, started.toldMeanwhileMs));
  return started.clock;
}
