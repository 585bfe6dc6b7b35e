// The worker's half of the test kit's time machine (tabwarden/testing/playwright, `clock`). Only
// the test build of the worker bundles calls it (scripts/build-bundles.ts --test-clock); the
// shipped bundles do not contain it (test/sw/test-clock-absent.test.ts proves it).
//
// A page's time is Playwright's `page.clock`; a worker's is this: the real clock shifted by an
// offset that the test moves forward. Tabs tell it over a BroadcastChannel (a live worker jumps
// at once and answers) and keep the offset in IndexedDB (a restarted worker starts there).
// Where no `page.clock` moves the pages (Firefox and WebKit under WebDriver, test/engines), a
// jump says `pages: true`, and the in-page transport's host, which lives in a page, jumps too.
import type { Clock } from '../core/clock.ts';
import { ShiftedClock } from '../core/shifted-clock.ts';

/** Where tabs and workers talk about time; also the IndexedDB database keeping the offset. */
export const TEST_CLOCK_CHANNEL = 'tabwarden:test-clock';

/**
 * Page → worker: move to `offsetMs` (`pages`: the in-page host too, as nothing else moves a
 * page's time). Worker → page: `jumped`, with the same `id`.
 */
export type TestClockMessage =
  | { type: 'jump'; offsetMs: number; id: string; pages?: boolean }
  | { type: 'jumped'; offsetMs: number; id: string };

/** The stored offset of workers (`offsetMs`), or of hosts in a page (`pagesOffsetMs`). */
function readStoredOffset(key: 'offsetMs' | 'pagesOffsetMs'): Promise<number> {
  return new Promise((resolve) => {
    const request = indexedDB.open(TEST_CLOCK_CHANNEL, 1);
    request.onupgradeneeded = () => request.result.createObjectStore('clock');
    request.onerror = () => resolve(0);
    request.onsuccess = () => {
      const db = request.result;
      const get = db.transaction('clock').objectStore('clock').get(key);
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
 * The clock of a worker built for tests. In a page (the in-page transport's leader) it runs on
 * the page's own clock, which Playwright's `page.clock` already moves: it jumps only when told
 * that nothing else moves the pages (`pages: true`).
 */
export async function openTestClock(): Promise<Clock> {
  const inPage = 'document' in globalThis;
  // Listen before reading the stored offset: a jump told while a (re)starting worker reads it
  // would otherwise be missed twice — broadcast before the channel existed, stored after the read.
  const started: { clock?: ShiftedClock; toldMeanwhileMs: number } = { toldMeanwhileMs: 0 };
  const channel = new BroadcastChannel(TEST_CLOCK_CHANNEL);
  channel.addEventListener('message', (event: MessageEvent<TestClockMessage>) => {
    if (event.data?.type !== 'jump' || (inPage && event.data.pages !== true)) return;
    if (started.clock) started.clock.jumpTo(event.data.offsetMs);
    else started.toldMeanwhileMs = Math.max(started.toldMeanwhileMs, event.data.offsetMs);
    const answer: TestClockMessage = { type: 'jumped', offsetMs: event.data.offsetMs, id: event.data.id };
    channel.postMessage(answer);
  });
  const storedMs = await readStoredOffset(inPage ? 'pagesOffsetMs' : 'offsetMs');
  started.clock = new ShiftedClock(Math.max(storedMs, started.toldMeanwhileMs));
  return started.clock;
}
