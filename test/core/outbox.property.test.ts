// R12 under random interleavings of send / offline / online / worker stop / clear, in the real
// engine with fake-indexeddb: every message acknowledged to a page is stored exactly once and in
// order unless a clear came first, and nothing of a cleared session is stored after the clear.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { createBadTokenCorpus, type BadTokenCorpus } from '../fixtures/bad-token-corpus.ts';
import { createWorld, dumpDatabase, unwrap, type World } from '../helpers/world.ts';

let corpus: BadTokenCorpus;
beforeAll(async () => {
  corpus = await createBadTokenCorpus();
});

type Action =
  | { kind: 'send' | 'clear'; tab: number }
  | { kind: 'offline' | 'online' | 'stop' | 'network-back' }
  | { kind: 'advance'; ms: number };

const tab = fc.nat({ max: 2 });
const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('send' as const), tab }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('clear' as const), tab }) },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constantFrom('offline', 'online', 'stop', 'network-back') }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.constantFrom(500, 2_000, 30_000) }),
  },
);

/** Resolves once `check` holds, or false after `ms` of real time. */
async function eventually(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return true;
}

describe('the outbox under random interleavings', () => {
  it('R12: every acknowledged message is stored exactly once, in order, unless a clear came first; nothing is stored after a clear', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 30 }), async (actions) => {
        const world: World = await createWorld({ corpus, tabs: 3 });
        const signIn = async () => {
          const token = await world.corpus.idp.mint({
            sub: 'alice',
            expiresInSeconds: 3600,
            now: world.clock.now(),
            claims: { aud: 'tabwarden-chat' },
          });
          for (const t of world.tabs) await unwrap(t.api.setIdentityToken(token));
        };
        // Acknowledged messages, in the order their pages were answered, and what a clear cut off.
        const acknowledged: string[] = [];
        const cutOff = new Set<string>();
        let next = 0;
        try {
          await signIn();
          await unwrap(world.tabs[0]!.api.startConversation());
          for (const step of actions) {
            switch (step.kind) {
              case 'send': {
                const id = `m-${next++}`;
                const result = await world.tabs[step.tab]!.api.sendMessage(`text ${id}`, id);
                // Offline, a new session cannot start: such a send is refused, never acknowledged.
                if (result.ok) acknowledged.push(id);
                else expect(['ERR_NO_SESSION', 'ERR_NETWORK']).toContain(result.error.code);
                break;
              }
              case 'clear': {
                expect((await world.tabs[step.tab]!.api.clearSession(false)).ok).toBe(true);
                // What the server has not stored by now belongs to the cleared session: never sent.
                for (const id of acknowledged) if (!world.server.posted.includes(id)) cutOff.add(id);
                expect((await dumpDatabase(world.storeName)).outbox).toEqual([]);
                await signIn();
                await world.tabs[0]!.api.startConversation();
                break;
              }
              case 'offline':
                world.server.offline = true;
                break;
              case 'online':
                world.server.offline = false;
                break;
              case 'network-back':
                await world.tabs[0]!.api.networkOnline();
                break;
              case 'stop':
                world.stopWorker();
                await world.restartWorker();
                await signIn();
                break;
              case 'advance':
                await world.clock.advance(step.ms);
                break;
            }
            // Nothing cut off by a clear is ever stored.
            expect(world.server.posted.filter((id) => cutOff.has(id))).toEqual([]);
          }
          // The network comes back for good: everything acknowledged and not cut off arrives.
          world.server.offline = false;
          const expected = acknowledged.filter((id) => !cutOff.has(id));
          await world.tabs[0]!.api.networkOnline();
          await world.clock.advance(60_000);
          const arrived = () => expected.every((id) => world.server.posted.includes(id));
          expect(await eventually(arrived, 3_000)).toBe(true);
          // Once each (the server stores an id once; posted lists each stored message once), in
          // the order the pages were answered.
          expect(world.server.posted.filter((id) => expected.includes(id))).toEqual(expected);
          expect(world.server.posted.filter((id) => cutOff.has(id))).toEqual([]);
          const emptied = async () => (await dumpDatabase(world.storeName)).outbox?.length === 0;
          expect(await eventually(emptied, 3_000)).toBe(true);
        } finally {
          world.close();
        }
      }),
      { numRuns: 150 },
    );
  }, 180_000);
});
