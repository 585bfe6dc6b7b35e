import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RpcResult, TabState } from '../../src/core/protocol.ts';
import { createBadTokenCorpus, CORPUS_AUDIENCE, type BadTokenCorpus } from '../fixtures/bad-token-corpus.ts';
import { createWorld, dumpDatabase, type World } from '../helpers/world.ts';

let corpus: BadTokenCorpus;
// Every world starts at this instant, and the tokens are minted for it: their lifetimes must not
// shrink as real time passes during the 300 runs.
const START = Date.parse('2030-01-01T00:00:00Z');
let tokens: Record<'alice' | 'aliceShort' | 'aliceNewer' | 'bob' | 'bad', string>;
beforeAll(async () => {
  corpus = await createBadTokenCorpus();
  const mint = (sub: string, expiresInSeconds: number) =>
    corpus.idp.mint({ sub, expiresInSeconds, now: START, claims: { aud: CORPUS_AUDIENCE } });
  tokens = {
    alice: await mint('alice', 600),
    aliceShort: await mint('alice', 45),
    aliceNewer: await mint('alice', 1200),
    bob: await mint('bob', 600),
    bad: corpus.cases.find((c) => c.name === 'a tampered signature')?.token as string,
  };
});

type Action =
  | { kind: 'token'; tab: number; token: keyof typeof tokens }
  | { kind: 'start' | 'send' | 'list' | 'clear' | 'gone'; tab: number }
  | { kind: 'advance'; ms: number };

const tab = fc.nat({ max: 2 });
// Weighted so that the interesting paths (expiry, waiting, renewal, clear) come up often.
const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('token' as const),
      tab,
      token: fc.constantFrom('alice', 'aliceShort', 'aliceShort', 'aliceNewer', 'bob', 'bad') as fc.Arbitrary<
        keyof typeof tokens
      >,
    }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constantFrom('start', 'send', 'list'), tab }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('clear', 'gone'), tab }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      ms: fc.constantFrom(1_000, 20_000, 40_000, 120_000),
    }),
  },
);

/** Resolves whether `promises` all settle within a bound of real time. */
async function allSettleWithin(promises: Promise<unknown>[], ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const settled = Promise.allSettled(promises).then(() => true);
  const result = await Promise.race([settled, timeout]);
  clearTimeout(timer);
  return result;
}

describe('SessionEngine under random interleavings of tab actions', () => {
  it('R3-R9 invariants: one subject per session, no request left waiting, nothing left after a clear, versions only grow', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 25 }), async (actions) => {
        const world: World = await createWorld({
          corpus,
          clockStartMs: START,
          tabs: 3,
          accessLifetimeMs: 30_000,
          graceMs: 30_000,
        });
        const pending: Array<Promise<RpcResult<unknown>>> = [];
        let lastVersion = 0;
        try {
          for (const step of actions) {
            const target = step.kind === 'advance' ? undefined : world.tabs[step.tab];
            if (!target && step.kind !== 'advance') continue;
            switch (step.kind) {
              case 'advance':
                await world.clock.advance(step.ms);
                break;
              case 'token': {
                const result = await target!.api.setIdentityToken(tokens[step.token]);
                if (step.token === 'bad') expect(result.ok).toBe(false);
                // A valid token releases every request waiting for one.
                if (result.ok && result.value.exp * 1000 > world.clock.now()) {
                  const waiting = [...pending];
                  expect(await allSettleWithin(waiting, 3_000)).toBe(true);
                }
                break;
              }
              case 'start':
                pending.push(target!.api.startConversation());
                break;
              case 'send':
                pending.push(target!.api.sendMessage('hello', `m-${pending.length}`));
                break;
              case 'list':
                pending.push(target!.api.listEntries(0));
                break;
              case 'clear': {
                const result = await target!.api.clearSession(false);
                expect(result.ok).toBe(true);
                expect(await allSettleWithin([...pending], 3_000)).toBe(true);
                const dump = await dumpDatabase(world.storeName);
                // Nothing of the cleared session is left (a session started after the clear may be).
                const session = dump.session as Array<{ sessionVersion: number }>;
                if (result.ok) {
                  expect(session.every((s) => s.sessionVersion > result.value.sessionVersion)).toBe(true);
                }
                break;
              }
              case 'gone':
                await target!.api.disconnect();
                world.tabs.splice(step.tab, 1);
                break;
            }
            // Read one tab after another: each over its own port, so answers asked for at once may
            // be computed in any order while a start is in flight, and only reads in sequence can
            // show that the version never goes back.
            const states: TabState[] = [];
            for (const t of world.tabs) states.push(await t.api.getState());
            const subjects = new Set(
              states.filter((s) => s.verified).map((s) => `${s.subject?.iss} ${s.subject?.sub}`),
            );
            expect(subjects.size).toBeLessThanOrEqual(1);
            const session = await world.store.loadSession();
            if (session && subjects.size === 1) {
              expect([...subjects][0]).toBe(`${session.subject.iss} ${session.subject.sub}`);
            }
            for (const state of states) {
              expect(state.sessionVersion).toBeGreaterThanOrEqual(lastVersion);
              lastVersion = state.sessionVersion;
            }
          }
          // However the run ended, every request settles once the grace window has run out. A
          // request still on its way when the clock moves may open its window only after that
          // (its deadline then 30 s on), so the clock moves past one more window if need be.
          await world.clock.advance(31_000);
          if (!(await allSettleWithin(pending, 1_000))) await world.clock.advance(31_000);
          expect(await allSettleWithin(pending, 3_000)).toBe(true);
        } finally {
          world.close();
        }
      }),
      { numRuns: 300 },
    );
  }, 120_000);
});
