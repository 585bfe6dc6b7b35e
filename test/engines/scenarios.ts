// The behaviour contract (DESIGN.md §2) as scenarios written once against the engine-neutral
// driver (driver.ts), run per engine and transport by contract.ts. Each asserts what a user of
// that engine would see break; the Chromium-only depth (DevTools stops, every fault phase) stays
// in test/e2e. Overlapping calls of several tabs go through `start`/`settled`, so they overlap on
// every engine, including WebDriver's one-window-at-a-time.
import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { createTestIdentityProvider, type StartTestServerOptions } from '../../src/testing/index.ts';
import { badMessagesFor, postBadMessagesInPage } from '../e2e/bad-messages.ts';
import type { Transport } from '../e2e/harness.ts';
import {
  call,
  eventsOf,
  expectNoTokenStored,
  facadeClearSession,
  facadeSetIdentityToken,
  isSettled,
  readDatabase,
  reload,
  settled,
  signIn,
  start,
  stateOf,
  value,
  waitForEvent,
  whenReady,
  type ConversationEntry,
  type EngineApp,
} from './app.ts';
import type { EngineDriver, EngineName, Tab } from './driver.ts';
import type { NetworkCut } from './network-cut.ts';

/** What a scenario gets. */
export interface ScenarioContext {
  engine: EngineName;
  transport: Transport;
  driver: EngineDriver;
  app: EngineApp;
  /** Present when the scenario asked for `networkCut`: the app is loaded through it. */
  link?: NetworkCut;
  /** The options this scenario's server was started with. */
  serverOptions: StartTestServerOptions;
}

/** One rule of the contract, as the cross-engine suite checks it. */
export interface Scenario {
  /** `'R1'` … `'R13'`: the table's row. */
  rule: string;
  /** The test's name, a sentence starting with the rule. */
  title: string;
  /** Options for this scenario's reference server. */
  server?: () => StartTestServerOptions & { cleanup?: () => void };
  /** Load the app through a cuttable link (network-cut.ts). */
  networkCut?: boolean;
  /**
   * Run on a clock the scenario moves (`app.fastForward`): the server's, and the host's in the
   * test build of the worker bundles. No scenario waits real time for an expiry.
   */
  clock?: boolean;
  /** `true`, or why this scenario does not apply to the engine and transport. */
  applies?: (engine: EngineName, transport: Transport) => true | string;
  /** Absent for a scenario that applies nowhere yet (then `applies` says why). */
  run?: (context: ScenarioContext) => Promise<void>;
}

export const SCENARIOS: readonly Scenario[] = [
  {
    rule: 'R1',
    title:
      'R1: Ready fires once the link is up; before it the facade refuses; three tabs opened at once all work',
    async run({ app, transport }) {
      const [early] = await app.open(1, { query: { deferInit: 1 }, noWait: true });
      const token = await app.mint('alice');
      expect(await facadeSetIdentityToken(early!, token)).toBe(false);
      expect(await facadeClearSession(early!)).toMatchObject({ ok: false, code: 'ERR_NOT_READY' });
      await whenReady(early!);
      const ready = await waitForEvent(early!, 'onEmbeddedMessagingReady');
      expect(ready.detail).toEqual({});
      expect(await eventsOf(early!, 'onEmbeddedMessagingReady')).toHaveLength(1);
      expect(await stateOf(early!)).toMatchObject({ ready: true, transport, verified: false });

      const tabs = await app.open(3, { together: true, query: { callTimeoutMs: 5_000 } });
      for (const tab of tabs) await signIn(tab, token);
      for (const [i, tab] of tabs.entries()) await start(tab, `start${i}`, 'startConversation');
      const ids = new Set<string>();
      for (const [i, tab] of tabs.entries()) {
        const outcome = await settled<{ conversationId: string }>(tab, `start${i}`);
        expect(outcome).toMatchObject({ ok: true });
        if (outcome.ok) ids.add(outcome.value.conversationId);
      }
      expect(ids.size).toBe(1);
    },
  },
  {
    rule: 'R2',
    title:
      'R2: a valid token verifies its tab; forged, unknown-key, expired and wrong-type tokens are rejected with their code and change nothing',
    async run({ app }) {
      const [first, second] = await app.open(2);
      const good = await app.mint('alice');
      expect(await facadeSetIdentityToken(first!, good)).toBe(true);
      const verified = await waitForEvent<{ sub: string; iss: string }>(first!, 'app:verified');
      expect(verified.detail).toMatchObject({ sub: 'alice', iss: app.server.issuer });
      await signIn(second!, good);
      const { conversationId } = await value<{ conversationId: string }>(first!, 'startConversation');

      const kid = app.server.jwks!.keys[0]!.kid!;
      const forger = await createTestIdentityProvider({ issuer: app.server.issuer, kid });
      const unknownKey = await createTestIdentityProvider({ issuer: app.server.issuer, kid: 'no-such-key' });
      const byWorker: Array<[string, string]> = [
        [await forger.mint({ sub: 'alice' }), 'ERR_TOKEN_SIGNATURE'],
        [await unknownKey.mint({ sub: 'alice' }), 'ERR_TOKEN_KEY_UNKNOWN'],
      ];
      let rejections = 0;
      for (const [token, code] of byWorker) {
        expect(await facadeSetIdentityToken(second!, token), code).toBe(true);
        const rejected = await waitForEvent<{ code: string }>(
          second!,
          'onEmbeddedMessagingIdentityTokenRejected',
          {
            count: ++rejections,
          },
        );
        expect(rejected.detail.code).toBe(code);
        // The module API rejects with the same code (in the other tab: its Rejected is not counted here).
        expect(await call(first!, 'setIdentityToken', token)).toMatchObject({ ok: false, code });
      }
      const byFacade: Array<[string, string, string]> = [
        [good, 'OIDC', 'ERR_TOKEN_TYPE'],
        ['not-a-jwt', 'JWT', 'ERR_TOKEN_MALFORMED'],
        [await app.mint('alice', -30), 'JWT', 'ERR_TOKEN_EXPIRED'],
      ];
      for (const [token, type, code] of byFacade) {
        expect(await facadeSetIdentityToken(second!, token, type), code).toBe(false);
        const rejected = await waitForEvent<{ code: string }>(
          second!,
          'onEmbeddedMessagingIdentityTokenRejected',
          {
            count: ++rejections,
          },
        );
        expect(rejected.detail.code).toBe(code);
      }
      for (const tab of [first!, second!]) {
        expect(await stateOf(tab)).toMatchObject({
          verified: true,
          subject: { sub: 'alice' },
          conversationId,
        });
        expect(await eventsOf(tab, 'tabwarden:session-cleared')).toHaveLength(0);
      }
      expect(await value<ConversationEntry>(second!, 'sendMessage', 'after the bad tokens')).toMatchObject({
        conversationId,
      });
    },
  },
  {
    rule: 'R3',
    title:
      'R3: the token verifies only the tab that gave it, is stored nowhere, and a reloaded tab needs it again',
    async run({ app }) {
      const [stays, reloads, other] = await app.open(3);
      const token = await app.mint('alice');
      await signIn(stays!, token);
      await signIn(reloads!, token);
      const { conversationId } = await value<{ conversationId: string }>(stays!, 'startConversation');
      await value(reloads!, 'sendMessage', 'before the reload');
      expect(await stateOf(other!)).toMatchObject({ verified: false });
      expect(await call(other!, 'listEntries', 0)).toMatchObject({ ok: false, code: 'ERR_NOT_VERIFIED' });

      await reload(reloads!);
      expect(await stateOf(reloads!)).toMatchObject({ verified: false });
      expect(await call(reloads!, 'listEntries', 0)).toMatchObject({ ok: false, code: 'ERR_NOT_VERIFIED' });
      expect(await stateOf(stays!)).toMatchObject({ verified: true, conversationId });
      for (const tab of [stays!, reloads!, other!]) await expectNoTokenStored(tab, [token]);

      const exchanges = app.server.exchangeCount();
      await signIn(reloads!, token);
      expect(await value(reloads!, 'startConversation')).toMatchObject({ conversationId });
      const texts = (await value<ConversationEntry[]>(reloads!, 'listEntries', 0)).map((entry) => entry.text);
      expect(texts).toContain('before the reload');
      expect(app.server.exchangeCount()).toBe(exchanges);
    },
  },
  {
    rule: 'R4',
    title: 'R4: three tabs start the session at once: one POST /v1/authorization, every tab told once',
    async run({ app }) {
      const tabs = await app.open(3);
      const token = await app.mint('alice');
      for (const tab of tabs) await signIn(tab, token);
      expect(app.server.exchangeCount()).toBe(0);
      for (const [i, tab] of tabs.entries()) await start(tab, `start${i}`, 'startConversation');
      const ids = new Set<string>();
      for (const [i, tab] of tabs.entries()) {
        const outcome = await settled<{ conversationId: string }>(tab, `start${i}`);
        expect(outcome).toMatchObject({ ok: true });
        if (outcome.ok) ids.add(outcome.value.conversationId);
      }
      expect(ids.size).toBe(1);
      const [conversationId] = [...ids];
      expect(app.server.exchangeCount()).toBe(1);
      expect(app.server.requestCount('POST', '/v1/conversations')).toBe(1);
      for (const tab of tabs) {
        const event = await waitForEvent(tab, 'onEmbeddedMessagingConversationStarted');
        expect(event.detail).toEqual({ conversationId });
        expect(await eventsOf(tab, 'onEmbeddedMessagingConversationStarted')).toHaveLength(1);
      }
      const stored = await readDatabase(tabs[0]!);
      expect(stored?.session).toEqual([expect.objectContaining({ conversationId })]);
      expect(JSON.stringify(stored)).not.toContain(token);
    },
  },
  {
    rule: 'R5',
    title: 'R5: after the authorization token expired, two tabs send at once: one silent renewal, no event',
    clock: true,
    async run({ app }) {
      const tabs = await app.open(2);
      const token = await app.mint('alice', 600);
      for (const tab of tabs) await signIn(tab, token);
      const { conversationId } = await value<{ conversationId: string }>(tabs[0]!, 'startConversation');
      const { accessToken, accessTokenExpiresAt } = (await readDatabase(tabs[0]!))!.session[0]!;
      // Past the server's 60 s authorization token (by its whole-second count too), not the
      // 10-minute identity token: moved, not waited for.
      expect(accessTokenExpiresAt - app.clock!.now()).toBeLessThanOrEqual(60_000);
      await app.fastForward(tabs[0]!, 61_000);
      for (const [i, tab] of tabs.entries()) await start(tab, `send${i}`, 'sendMessage', `after expiry ${i}`);
      for (const [i, tab] of tabs.entries()) {
        expect(await settled(tab, `send${i}`)).toMatchObject({ ok: true, value: { conversationId } });
      }
      expect(app.server.exchangeCount()).toBe(2);
      for (const tab of tabs) {
        expect(await eventsOf(tab, 'onEmbeddedMessagingIdentityTokenExpired')).toHaveLength(0);
        expect(await eventsOf(tab, 'tabwarden:session-cleared')).toHaveLength(0);
        expect(await eventsOf(tab, 'app:identity-token-refreshed')).toHaveLength(0);
      }
      expect((await readDatabase(tabs[1]!))!.session[0]!.accessToken).not.toBe(accessToken);
    },
  },
  {
    rule: 'R6',
    title:
      'R6: once both tokens expired an interaction fires the expiry event in every verified tab; one new token releases the wait',
    clock: true,
    async run({ app }) {
      const [first, other] = await app.open(2);
      const [unverified] = await app.open(1);
      const token = await app.mint('alice', 600);
      for (const tab of [first!, other!]) await signIn(tab, token);
      const { conversationId } = await value<{ conversationId: string }>(first!, 'startConversation');
      // Past the 10-minute identity token and the 60 s authorization token.
      await app.fastForward(first!, 601_000);

      await start(first!, 'send', 'sendMessage', 'sent after both expired');
      const deadlines = new Set<number>();
      for (const tab of [first!, other!]) {
        const expired = await waitForEvent<{ deadline: number }>(
          tab,
          'onEmbeddedMessagingIdentityTokenExpired',
        );
        deadlines.add(expired.detail.deadline);
      }
      expect(deadlines.size).toBe(1);
      expect(await isSettled(first!, 'send')).toBe(false);
      expect(await eventsOf(unverified!, 'onEmbeddedMessagingIdentityTokenExpired')).toHaveLength(0);

      // Minted on the moved clock, so valid for the host.
      expect(await facadeSetIdentityToken(other!, await app.mint('alice', 600))).toBe(true);
      expect(await settled(first!, 'send')).toMatchObject({ ok: true, value: { conversationId } });
      for (const tab of [first!, other!]) {
        expect(await eventsOf(tab, 'onEmbeddedMessagingIdentityTokenExpired')).toHaveLength(1);
        expect(await eventsOf(tab, 'tabwarden:session-cleared')).toHaveLength(0);
      }
    },
  },
  {
    rule: 'R7',
    title:
      'R7: clearSession in one of three tabs clears every tab and the storage before it resolves; Ready again everywhere',
    async run({ app }) {
      const tabs = await app.open(3);
      const token = await app.mint('alice');
      for (const tab of tabs) await signIn(tab, token);
      await value(tabs[0]!, 'startConversation');
      await value(tabs[1]!, 'sendMessage', 'a message');
      await value(tabs[2]!, 'listEntries', 0);

      const cleared = await tabs[2]!.evaluate(async () => {
        const outcome = await window.app.clearSession!(true);
        return { outcome, resolvedAt: Date.now(), database: await window.app.readDatabase() };
      }, undefined);
      expect(cleared.outcome).toEqual({ ok: true });
      if (cleared.database) expect(cleared.database).toMatchObject({ session: [], entries: [], outbox: [] });
      for (const tab of tabs) {
        const events = await eventsOf<{ reason: string }>(tab, 'tabwarden:session-cleared');
        expect(events.map((event) => event.detail)).toEqual([{ reason: 'logout' }]);
        expect(events[0]!.at).toBeLessThanOrEqual(cleared.resolvedAt);
        const ready = await eventsOf(tab, 'onEmbeddedMessagingReady');
        expect(ready).toHaveLength(2);
        expect(await stateOf(tab)).toMatchObject({ verified: false });
        expect(await call(tab, 'sendMessage', 'after logout')).toMatchObject({
          ok: false,
          code: 'ERR_NOT_VERIFIED',
        });
        await expectNoTokenStored(tab, [token]);
      }
      expect(await facadeClearSession(tabs[0]!)).toEqual({ ok: true });
    },
  },
  {
    rule: 'R8',
    title: 'R8: another user’s token clears the old session everywhere first; nothing of alice reaches bob',
    async run({ app }) {
      const [aliceTab, switchTab] = await app.open(2);
      const aliceToken = await app.mint('alice');
      for (const tab of [aliceTab!, switchTab!]) await signIn(tab, aliceToken);
      const alice = await value<{ conversationId: string }>(aliceTab!, 'startConversation');
      await value(aliceTab!, 'sendMessage', 'alice’s secret');

      expect(await signIn(switchTab!, await app.mint('bob'))).toMatchObject({ sub: 'bob' });
      for (const tab of [aliceTab!, switchTab!]) {
        const cleared = await waitForEvent<{ reason: string }>(tab, 'tabwarden:session-cleared');
        expect(cleared.detail).toEqual({ reason: 'user-switch' });
      }
      expect(await stateOf(aliceTab!)).toMatchObject({ verified: false });
      expect(await stateOf(switchTab!)).toMatchObject({ verified: true, subject: { sub: 'bob' } });
      const bob = await value<{ conversationId: string }>(switchTab!, 'startConversation');
      expect(bob.conversationId).not.toBe(alice.conversationId);
      const texts = (await value<ConversationEntry[]>(switchTab!, 'listEntries', 0)).map(
        (entry) => entry.text,
      );
      expect(texts).not.toContain('alice’s secret');
      const stored = JSON.stringify(await readDatabase(switchTab!));
      expect(stored).not.toContain('alice’s secret');
      expect(stored).not.toContain(alice.conversationId);
    },
  },
  {
    rule: 'R9',
    title:
      'R9: a newer token in one tab reaches the other verified tabs as identity-token-refreshed, not the unverified one',
    async run({ app }) {
      const [first, refresher] = await app.open(2);
      const [unverified] = await app.open(1);
      const initial = await app.mint('alice', 600);
      for (const tab of [first!, refresher!]) await signIn(tab, initial);
      await value(first!, 'startConversation');
      const { exp } = await signIn(refresher!, await app.mint('alice', 900));
      const refreshed = await waitForEvent<{ exp: number }>(first!, 'tabwarden:identity-token-refreshed');
      expect(refreshed.detail).toEqual({ exp });
      expect(await eventsOf(unverified!, 'app:identity-token-refreshed')).toHaveLength(0);
      expect(await eventsOf(first!, 'tabwarden:session-cleared')).toHaveLength(0);
    },
  },
  {
    rule: 'R10',
    title:
      'R10: the host of the session is replaced mid-session (a new service-worker version; the in-page leader closing); the session goes on',
    server: () => {
      // A copy of the bundles, so the scenario can publish a new worker version.
      const bundlesDir = mkdtempSync(join(tmpdir(), 'tabwarden-engine-bundles-'));
      cpSync('dist/bundles', bundlesDir, { recursive: true });
      return { bundlesDir, cleanup: () => rmSync(bundlesDir, { recursive: true, force: true }) };
    },
    applies: (_engine, transport) =>
      transport === 'shared-worker'
        ? 'no automation protocol but Chromium’s DevTools ends a SharedWorker its tabs hold (test/e2e/restarts.spec.ts)'
        : true,
    async run({ app, transport, serverOptions }) {
      let tabs = await app.open(3);
      const token = await app.mint('alice');
      for (const tab of tabs) await signIn(tab, token);
      const { conversationId } = await value<{ conversationId: string }>(tabs[0]!, 'startConversation');
      await value(tabs[0]!, 'sendMessage', 'before');
      if (transport === 'service-worker') {
        await replaceServiceWorker(tabs, serverOptions.bundlesDir!);
      } else {
        const leader = await inPageLeader(tabs);
        await leader.close();
        tabs = tabs.filter((tab) => tab !== leader);
      }
      const [active, idle] = tabs as [Tab, Tab];
      expect(await value(active, 'sendMessage', 'after')).toMatchObject({ conversationId });
      const texts = (await value<ConversationEntry[]>(idle, 'listEntries', 0)).map((entry) => entry.text);
      expect(texts).toEqual(expect.arrayContaining(['before', 'after']));
      expect(app.server.exchangeCount()).toBe(1);
      // A logout in one tab still reaches the tab idle since the replacement.
      expect(await facadeClearSession(active)).toEqual({ ok: true });
      const cleared = await waitForEvent<{ reason: string }>(idle, 'tabwarden:session-cleared');
      expect(cleared.detail).toEqual({ reason: 'logout' });
    },
  },
  {
    rule: 'R11',
    title: 'R11: with transport auto the service worker is chosen; the forced transport is the one in use',
    async run({ app, transport }) {
      const [forced] = await app.open(1);
      expect(await stateOf(forced!)).toMatchObject({ transport });
      const auto = await app.group.open(`${app.origin}/app.html?transport=auto`);
      await whenReady(auto);
      expect(await stateOf(auto)).toMatchObject({ transport: 'service-worker' });
      expect(await auto.evaluate(() => Boolean(navigator.serviceWorker.controller), undefined)).toBe(true);
    },
  },
  {
    rule: 'R12',
    title:
      'R12: offline the cached history is readable, a send answers pending, the session is kept; online again it goes out first',
    networkCut: true,
    async run({ app, driver, link }) {
      const tabs = await app.open(2, { query: { callTimeoutMs: 5_000 } });
      const [writer, reader] = tabs as [Tab, Tab];
      const token = await app.mint('alice');
      for (const tab of tabs) await signIn(tab, token);
      const { conversationId } = await value<{ conversationId: string }>(writer, 'startConversation');
      await value(writer, 'sendMessage', 'first, online');
      const online = await value<ConversationEntry[]>(reader, 'listEntries', 0);
      const sessionBefore = (await readDatabase(reader))!.session[0]!;

      const setOffline = (offline: boolean) => switchNetwork(driver, app, link!, offline);
      await setOffline(true);
      try {
        if (driver.setOffline) expect(await reader.evaluate(() => navigator.onLine, undefined)).toBe(false);
        for (const tab of tabs)
          expect(await call(tab, 'listEntries', 0)).toEqual({ ok: true, value: online });
        expect(await call(writer, 'sendMessage', 'written offline')).toMatchObject({
          ok: true,
          value: { status: 'pending', conversationId },
        });
        for (const tab of tabs) {
          expect(await stateOf(tab)).toMatchObject({ verified: true, conversationId });
          expect(await eventsOf(tab, 'tabwarden:session-cleared')).toHaveLength(0);
        }
        expect((await readDatabase(writer))!.session).toEqual([sessionBefore]);
      } finally {
        await setOffline(false);
      }
      expect(await value(writer, 'sendMessage', 'back online')).toMatchObject({ conversationId });
      const after = await value<ConversationEntry[]>(reader, 'listEntries', 0);
      expect(after.filter((entry) => entry.role === 'user').map((entry) => entry.text)).toEqual([
        'first, online',
        'written offline',
        'back online',
      ]);
      expect(app.server.exchangeCount()).toBe(1);
    },
  },
  {
    rule: 'R12',
    title:
      'R12: offline, messages sent from two tabs answer pending and show in every tab; online again each is stored once, in order, in the same session',
    networkCut: true,
    async run({ app, driver, link }) {
      const tabs = await app.open(2, { kind: 'app', query: { callTimeoutMs: 5_000 } });
      const token = await app.mint('alice');
      for (const tab of tabs) await signIn(tab, token);
      const { conversationId } = await value<{ conversationId: string }>(tabs[0]!, 'startConversation');
      const sessionBefore = (await readDatabase(tabs[0]!))!.session[0]!;
      // Sent one after the other, alternating tabs: one order across both, the outbox's.
      const written = [1, 2, 3].flatMap((i) =>
        tabs.map((_tab, t) => [t, `tab ${t + 1}, message ${i}`] as const),
      );
      const texts = written.map(([, text]) => text);
      const posts = () =>
        app.server.requests().filter((r) => r.method === 'POST' && MESSAGES_PATH.test(r.path));

      await switchNetwork(driver, app, link!, true);
      try {
        for (const [t, text] of written) {
          expect(await value<OutboxMessage>(tabs[t]!, 'sendMessage', text)).toMatchObject({
            status: 'pending',
            text,
          });
        }
        for (const tab of tabs) {
          await expect.poll(async () => (await shownOutbox(tab))?.map((m) => m.text)).toEqual(texts);
          expect((await value<OutboxMessage[]>(tab, 'listOutbox')).map((m) => m.status)).toEqual(
            texts.map(() => 'pending'),
          );
          expect(await stateOf(tab)).toMatchObject({ verified: true, conversationId });
        }
        expect(posts()).toEqual([]);
        expect((await readDatabase(tabs[1]!))!.session).toEqual([sessionBefore]);
      } finally {
        await switchNetwork(driver, app, link!, false);
      }
      // Delivered by the outbox itself (the online event, or its next retry): no send pushes it.
      await expect.poll(() => storedTexts(tabs[1]!), { timeout: 20_000 }).toEqual(texts);
      expect(await storedTexts(tabs[0]!)).toEqual(texts);
      expect(posts().filter((r) => r.status !== undefined && r.status < 300)).toHaveLength(texts.length);
      for (const tab of tabs) {
        await expect.poll(async () => (await shownOutbox(tab))?.length).toBe(0);
        expect(await value(tab, 'listOutbox')).toEqual([]);
        expect(await stateOf(tab)).toMatchObject({ verified: true, conversationId });
        expect(await eventsOf(tab, 'tabwarden:session-cleared')).toHaveLength(0);
      }
      expect((await readDatabase(tabs[0]!))!.session[0]!.conversationId).toBe(sessionBefore.conversationId);
      expect(app.server.exchangeCount()).toBe(1);
    },
  },
  {
    rule: 'R13',
    title: 'R13: messages of the wrong shape posted to the host of the session change nothing',
    async run({ app, transport }) {
      const tabs = await app.open(2);
      const token = await app.mint('alice');
      for (const tab of tabs) await signIn(tab, token);
      const { conversationId } = await value<{ conversationId: string }>(tabs[0]!, 'startConversation');
      const statesBefore = await Promise.all(tabs.map((tab) => stateOf(tab)));
      const sessionBefore = (await readDatabase(tabs[0]!))!.session;

      await tabs[1]!.evaluate(postBadMessagesInPage, badMessagesFor(transport));
      expect(await value(tabs[1]!, 'sendMessage', 'after the garbage')).toMatchObject({ conversationId });
      for (const [i, tab] of tabs.entries()) {
        expect(await stateOf(tab)).toEqual(statesBefore[i]);
        for (const name of ['tabwarden:session-cleared', 'onEmbeddedMessagingIdentityTokenRejected']) {
          expect(await eventsOf(tab, name), name).toHaveLength(0);
        }
        expect(await eventsOf(tab, 'onEmbeddedMessagingReady')).toHaveLength(1);
      }
      expect((await readDatabase(tabs[1]!))!.session).toEqual(sessionBefore);
      expect(app.server.exchangeCount()).toBe(1);
    },
  },
];

/** The transports every scenario runs on (R11). */
export const TRANSPORTS: readonly Transport[] = ['service-worker', 'shared-worker', 'in-page'];

/**
 * The nearest equivalent of stopping a service worker that every engine's automation allows: a
 * byte-different script published and taken over (skipWaiting + clients.claim). The new
 * instance starts with empty memory and restores the session from IndexedDB, as after a stop.
 */
async function replaceServiceWorker(tabs: readonly Tab[], bundlesDir: string): Promise<void> {
  for (const tab of tabs) {
    await tab.evaluate(() => {
      const flags = window as unknown as { controllerChanged: Promise<void> };
      flags.controllerChanged = new Promise<void>((resolve) =>
        navigator.serviceWorker.addEventListener('controllerchange', () => resolve(), { once: true }),
      );
    }, undefined);
  }
  appendFileSync(join(bundlesDir, 'tabwarden-sw.js'), `\n// the next version ${Date.now()}\n`);
  await tabs[0]!.evaluate(async () => {
    await (await navigator.serviceWorker.getRegistration())?.update();
  }, undefined);
  for (const tab of tabs) {
    await tab.evaluate(
      () => (window as unknown as { controllerChanged: Promise<void> }).controllerChanged,
      undefined,
    );
  }
}

/** The tab leading the in-page transport: the only one that loaded the engine bundle. */
async function inPageLeader(tabs: readonly Tab[]): Promise<Tab> {
  const leaders: Tab[] = [];
  for (const tab of tabs) {
    const leads = await tab.evaluate(
      () =>
        performance
          .getEntriesByType('resource')
          .some((entry) => new URL(entry.name).pathname === '/bundles/tabwarden-in-page-host.js'),
      undefined,
    );
    if (leads) leaders.push(tab);
  }
  if (leaders.length !== 1) throw new Error(`expected one in-page leader, found ${leaders.length}`);
  return leaders[0]!;
}

/** The path the outbox posts to (`POST /v1/conversations/:id/messages`). */
const MESSAGES_PATH = /^\/v1\/conversations\/[^/]+\/messages$/;

/** A message of the outbox, as `listOutbox` and the `outbox` event show it. */
interface OutboxMessage {
  status: 'pending' | 'failed';
  clientMessageId: string;
  text: string;
}

/**
 * Offline, or online again: the engine's own offline switch where it has one; the link is cut
 * as well where that switch does not reach the workers (or does not exist).
 */
async function switchNetwork(
  driver: EngineDriver,
  app: EngineApp,
  link: NetworkCut,
  offline: boolean,
): Promise<void> {
  if (driver.setOffline) await driver.setOffline(app.group, app.origin, offline);
  if (driver.offlineReachesWorkers) return;
  if (offline) link.cut();
  else link.restore();
}

/** The user entries the server stored, read (online) from `tab`. */
async function storedTexts(tab: Tab): Promise<string[]> {
  const entries = await value<ConversationEntry[]>(tab, 'listEntries', 0);
  return entries.filter((entry) => entry.role === 'user').map((entry) => entry.text);
}

/** The outbox the tab was last shown (its `outbox` events). */
async function shownOutbox(tab: Tab): Promise<OutboxMessage[] | undefined> {
  const events = await eventsOf<{ messages: OutboxMessage[] }>(tab, 'app:outbox');
  return events.at(-1)?.detail.messages;
}
