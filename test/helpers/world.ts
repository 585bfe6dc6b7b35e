// A simulated browser for engine tests: one SessionEngine (the shared worker) and N tabs, each
// talking to it over its own Node MessageChannel with comlink, exactly as the worker hosts will.
import * as Comlink from 'comlink';
import { openDB } from 'idb';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { AuthorizationClient } from '../../src/core/authorization-client.ts';
import type { ConversationClient } from '../../src/core/conversation-client.ts';
import { TabwardenError } from '../../src/core/errors.ts';
import type { ConversationEntry, RpcResult, TabApi, WorkerEvent } from '../../src/core/protocol.ts';
import type { ExchangeResponse } from '../../src/core/server-api.ts';
import { SessionEngine } from '../../src/core/session-engine.ts';
import { openSessionStore, type SessionStore } from '../../src/core/store.ts';
import { createTabApi } from '../../src/core/tab-api.ts';
import { createIdentityTokenVerifier } from '../../src/core/verify-identity-token.ts';
import { ManualClock } from '../../src/testing/manual-clock.ts';
import { createBadTokenCorpus, type BadTokenCorpus } from '../fixtures/bad-token-corpus.ts';

/**
 * A stand-in for the reference server that verifies identity tokens itself (R13), issues
 * access tokens that expire on the world's clock, and counts what it was asked.
 */
export class FakeServer implements AuthorizationClient, ConversationClient {
  exchanges = 0;
  revoked: string[] = [];
  ended: string[] = [];
  offline = false;
  accessLifetimeMs: number;
  /** Exchanges wait on this, so a test can hold them in flight. */
  gate: Promise<void> = Promise.resolve();
  /** Entry lists wait on this, so a test can hold them in flight; `onList` says one arrived. */
  listGate: Promise<void> = Promise.resolve();
  onList: () => void = () => {};
  /** Answers to posted messages wait on this (the message is stored already); `onPost` says one was stored. */
  postGate: Promise<void> = Promise.resolve();
  onPost: () => void = () => {};
  /** The client message ids of every message stored, in order. */
  posted: string[] = [];
  /** Set to answer every post with this error (a 5xx, a 4xx) instead of storing it. */
  postFailure: TabwardenError | undefined;
  /** Every event stream opened: its authorization token and `Last-Event-ID`. */
  streamsOpened: Array<{ accessToken: string; afterSeq: number }> = [];
  readonly #liveStreams = new Set<{
    conversationId: string;
    send(entry: ConversationEntry): void;
    cut(): void;
  }>();
  readonly #clock: ManualClock;
  readonly #verify: (token: string) => Promise<{ iss: string; sub: string }>;
  readonly #tokens = new Map<string, { iss: string; sub: string; expiresAt: number }>();
  readonly #messages = new Map<string, ConversationEntry[]>();
  #next = 0;

  constructor(clock: ManualClock, corpus: BadTokenCorpus, accessLifetimeMs: number) {
    this.#clock = clock;
    this.accessLifetimeMs = accessLifetimeMs;
    const verifier = createIdentityTokenVerifier({ ...corpus.verifierOptions, clock });
    this.#verify = (token) => verifier.verify(token);
  }

  #online(): void {
    if (this.offline) throw new TabwardenError('ERR_NETWORK', 'offline');
  }

  #check(accessToken: string): { iss: string; sub: string } {
    this.#online();
    const grant = this.#tokens.get(accessToken);
    if (!grant || grant.expiresAt <= this.#clock.now() || this.revoked.includes(accessToken)) {
      throw new TabwardenError('ERR_AUTHORIZATION_FAILED', 'refused');
    }
    return grant;
  }

  async exchange(identityToken: string): Promise<ExchangeResponse> {
    this.#online();
    this.exchanges++;
    await this.gate;
    const subject = await this.#verify(identityToken).catch(() => {
      throw new TabwardenError('ERR_AUTHORIZATION_FAILED', 'refused');
    });
    const accessToken = `access-${++this.#next}`;
    const expiresAt = this.#clock.now() + this.accessLifetimeMs;
    this.#tokens.set(accessToken, { iss: subject.iss, sub: subject.sub, expiresAt });
    return { accessToken, expiresAt, subject: { iss: subject.iss, sub: subject.sub } };
  }

  async revoke(accessToken: string): Promise<void> {
    this.#online();
    this.revoked.push(accessToken);
  }

  async open(accessToken: string) {
    const { sub } = this.#check(accessToken);
    return { conversationId: `conversation-of-${sub}`, status: 'open' as const };
  }

  async listEntries(accessToken: string, conversationId: string, afterSeq: number) {
    this.#check(accessToken);
    this.onList();
    await this.listGate;
    return (this.#messages.get(conversationId) ?? []).filter((e) => e.seq > afterSeq);
  }

  async postMessage(
    accessToken: string,
    conversationId: string,
    message: { clientMessageId: string; text: string },
  ) {
    this.#check(accessToken);
    if (this.postFailure) throw this.postFailure;
    const existing = this.#messages
      .get(conversationId)
      ?.find((e) => e.clientMessageId === message.clientMessageId);
    if (existing) return existing;
    const entry = this.#store(conversationId, {
      role: 'user',
      text: message.text,
      clientMessageId: message.clientMessageId,
    });
    this.posted.push(message.clientMessageId);
    this.onPost();
    await this.postGate;
    return entry;
  }

  /** Event streams open now. */
  get openStreams(): number {
    return this.#liveStreams.size;
  }

  /**
   * A stream of `entry` events after `afterSeq`, then of every entry stored later, as the
   * reference server's `/events` sends them.
   */
  async openEvents(accessToken: string, conversationId: string, afterSeq: number, signal: AbortSignal) {
    this.#check(accessToken);
    this.streamsOpened.push({ accessToken, afterSeq });
    const encoder = new TextEncoder();
    const frame = (entry: ConversationEntry) =>
      encoder.encode(`id: ${entry.seq}\nevent: entry\ndata: ${JSON.stringify(entry)}\n\n`);
    const streams = this.#liveStreams;
    const backlog = (this.#messages.get(conversationId) ?? []).filter((e) => e.seq > afterSeq);
    let live: { conversationId: string; send(entry: ConversationEntry): void; cut(): void };
    return new ReadableStream<Uint8Array>({
      start(controller) {
        for (const entry of backlog) controller.enqueue(frame(entry));
        live = {
          conversationId,
          send: (entry) => controller.enqueue(frame(entry)),
          cut: () => {
            streams.delete(live);
            controller.error(new TypeError('network error'));
          },
        };
        streams.add(live);
        signal.addEventListener('abort', () => {
          streams.delete(live);
          try {
            controller.close();
          } catch {
            // Cut already.
          }
        });
      },
      cancel() {
        streams.delete(live);
      },
    });
  }

  /** Cuts every open event stream, as a network failure or a server restart does. */
  cutStreams(): void {
    for (const stream of [...this.#liveStreams]) stream.cut();
  }

  /** Stores an agent reply, as the demo agent does. */
  agentSays(conversationId: string, text: string): ConversationEntry {
    return this.#store(conversationId, { role: 'agent', text });
  }

  #store(conversationId: string, fields: Pick<ConversationEntry, 'role' | 'text' | 'clientMessageId'>) {
    const entries = this.#messages.get(conversationId) ?? [];
    this.#messages.set(conversationId, entries);
    const entry: ConversationEntry = {
      conversationId,
      seq: entries.length + 1,
      createdAt: this.#clock.now(),
      ...fields,
    };
    entries.push(entry);
    for (const stream of this.#liveStreams) if (stream.conversationId === conversationId) stream.send(entry);
    return entry;
  }

  async end(accessToken: string, conversationId: string) {
    this.#check(accessToken);
    this.ended.push(conversationId);
  }
}

/** One simulated tab: its comlink proxy of the worker and every event it received. */
export interface Tab {
  id: string;
  api: Comlink.Remote<TabApi>;
  events: WorkerEvent[];
  /** Events of one type, in order. */
  eventsOf<T extends WorkerEvent['type']>(type: T): Array<Extract<WorkerEvent, { type: T }>>;
  /** Resolves once `count` events of `type` arrived; rejects after 5 s of real time. */
  waitForEvents<T extends WorkerEvent['type']>(
    type: T,
    count?: number,
  ): Promise<Array<Extract<WorkerEvent, { type: T }>>>;
  port: MessagePort;
}

export interface World {
  corpus: BadTokenCorpus;
  clock: ManualClock;
  server: FakeServer;
  store: SessionStore;
  engine: SessionEngine;
  tabs: Tab[];
  storeName: string;
  /** Connects one more tab. */
  openTab(): Promise<Tab>;
  /** Restarts the worker: a new engine on the same store, every tab reconnected (R10). */
  restartWorker(): Promise<void>;
  /** Stops the worker: its timers die; nothing runs until restartWorker. */
  stopWorker(): void;
  close(): void;
}

export interface WorldOptions {
  tabs?: number;
  graceMs?: number;
  accessLifetimeMs?: number;
  corpus?: BadTokenCorpus;
  /** Where the world's clock starts; default the real now. Tokens minted ahead of time use the same. */
  clockStartMs?: number;
  /** Stands between the engine and its store, e.g. to make writes fail. */
  wrapStore?: (store: SessionStore) => SessionStore;
}

let worldCount = 0;

/** Unwraps an RpcResult: the value, or a thrown TabwardenError with the code from the wire. */
export async function unwrap<T>(result: Promise<RpcResult<T>>): Promise<T> {
  const outcome = await result;
  if (outcome.ok) return outcome.value;
  throw new TabwardenError(outcome.error.code, outcome.error.message);
}

/** The code an RpcResult failed with, or 'ok'. */
export async function codeOf(result: Promise<RpcResult<unknown>>): Promise<string> {
  const outcome = await result;
  return outcome.ok ? 'ok' : outcome.error.code;
}

/** Verifies `tabs` as `sub` with a token that lives `seconds` from the world's now; resolves the token. */
export async function verifyTabs(world: World, tabs: Tab[], sub = 'alice', seconds = 3600): Promise<string> {
  const token = await world.corpus.idp.mint({
    sub,
    expiresInSeconds: seconds,
    now: world.clock.now(),
    claims: { aud: 'tabwarden-chat' },
  });
  for (const tab of tabs) await unwrap(tab.api.setIdentityToken(token));
  return token;
}

/** Every record in every object store of the world's database, for "nothing left" checks. */
export async function dumpDatabase(name: string): Promise<Record<string, unknown[]>> {
  const db = await openDB(name);
  const dump: Record<string, unknown[]> = {};
  for (const storeName of db.objectStoreNames) dump[storeName] = await db.getAll(storeName);
  db.close();
  return dump;
}

export async function createWorld(options: WorldOptions = {}): Promise<World> {
  const corpus = options.corpus ?? (await createBadTokenCorpus());
  const clock = new ManualClock(options.clockStartMs);
  const server = new FakeServer(clock, corpus, options.accessLifetimeMs ?? 60 * 60 * 1000);
  const storeName = `tabwarden-test-${++worldCount}-${Math.random().toString(36).slice(2)}`;
  const ports: MessagePort[] = [];
  let tabCount = 0;

  // Each engine gets its own view of the clock, so a "killed" worker's timers die with it.
  let killPrevious = () => {};
  const makeEngine = async () => {
    killPrevious();
    let alive = true;
    killPrevious = () => {
      alive = false;
    };
    const engineClock = {
      now: () => clock.now(),
      setTimer: (callback: () => void, delayMs: number) => clock.setTimer(() => alive && callback(), delayMs),
    };
    // A stopped worker reaches no server either: its requests fail as if the network were gone.
    const reach = <T>(request: () => Promise<T>) =>
      alive ? request() : Promise.reject(new TabwardenError('ERR_NETWORK', 'the worker was stopped'));
    const authorization: AuthorizationClient = {
      exchange: (identityToken) => reach(() => server.exchange(identityToken)),
      revoke: (accessToken) => reach(() => server.revoke(accessToken)),
    };
    const conversations: ConversationClient = {
      open: (accessToken) => reach(() => server.open(accessToken)),
      listEntries: (...args) => reach(() => server.listEntries(...args)),
      postMessage: (...args) => reach(() => server.postMessage(...args)),
      end: (...args) => reach(() => server.end(...args)),
      openEvents: (...args) => reach(() => server.openEvents(...args)),
    };
    return SessionEngine.create({
      verifier: createIdentityTokenVerifier({ ...corpus.verifierOptions, clock }),
      authorization,
      conversations,
      store: (options.wrapStore ?? ((store) => store))(await openSessionStore(storeName)),
      clock: engineClock,
      graceMs: options.graceMs ?? 30_000,
      ackTimeoutMs: 1_000,
    });
  };

  const connect = async (engine: SessionEngine, tab: Tab) => {
    const { port1, port2 } = new MessageChannel();
    ports.push(port1, port2);
    Comlink.expose(createTabApi(engine, tab.id), port1 as unknown as Comlink.Endpoint);
    tab.api = Comlink.wrap<TabApi>(port2 as unknown as Comlink.Endpoint);
    tab.port = port2;
    await tab.api.subscribe(
      Comlink.proxy((event: WorkerEvent) => {
        tab.events.push(event);
        notify.get(tab)?.forEach((check) => check());
      }),
    );
  };
  const notify = new WeakMap<Tab, Set<() => void>>();

  const world: World = {
    corpus,
    clock,
    server,
    storeName,
    store: await openSessionStore(storeName),
    engine: await makeEngine(),
    tabs: [],
    async openTab() {
      const tab = {
        id: `tab-${++tabCount}`,
        events: [] as WorkerEvent[],
        eventsOf(type: WorkerEvent['type']) {
          return tab.events.filter((e) => e.type === type) as never;
        },
        waitForEvents(type: WorkerEvent['type'], count = 1) {
          return new Promise((resolve, reject) => {
            const checks = notify.get(tab) ?? new Set();
            notify.set(tab, checks);
            const timer = setTimeout(() => {
              checks.delete(check);
              reject(new Error(`${tab.id}: no ${count} ${type} event(s) within 5 s`));
            }, 5_000);
            const check = () => {
              const found = tab.eventsOf(type);
              if (found.length < count) return;
              clearTimeout(timer);
              checks.delete(check);
              resolve(found as never);
            };
            checks.add(check);
            check();
          });
        },
      } as unknown as Tab;
      await connect(world.engine, tab);
      world.tabs.push(tab);
      return tab;
    },
    stopWorker() {
      killPrevious();
    },
    async restartWorker() {
      world.engine = await makeEngine();
      for (const tab of world.tabs) await connect(world.engine, tab);
    },
    close() {
      for (const port of ports) port.close();
      world.store.close();
    },
  };
  for (let i = 0; i < (options.tabs ?? 3); i++) await world.openTab();
  return world;
}
