import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { TabwardenError, type SerializedError } from './errors.ts';
import type { ClearReason, ConversationEntry, Subject } from './protocol.ts';

/**
 * The session as it is kept in IndexedDB (R4), so it survives a worker restart and a page
 * refresh. It never holds the identity token (R3): that lives in memory only.
 */
export interface SessionRecord {
  subject: Subject;
  accessToken: string;
  /** Milliseconds since the epoch. */
  accessTokenExpiresAt: number;
  conversationId: string;
  sessionVersion: number;
  /** Set while a grace window is open (R6); stored so a restart can neither lose nor extend it. */
  graceDeadline?: number;
  /**
   * The last entry the live stream cached and handed to the tabs (R12): a restarted worker
   * resumes the stream after it (`Last-Event-ID`), so nothing is lost in between.
   */
  streamSeq?: number;
}

/** The state a worker restores from the store. */
export interface StoredState {
  /** The session version last written; 0 for a new database. */
  sessionVersion: number;
  /** The session version the last clear produced (0 if never cleared) and why it happened. */
  lastClear: { sessionVersion: number; reason?: ClearReason };
  session?: SessionRecord;
}

/** A message waiting to be delivered in order, exactly once (R12). */
export interface OutboxItem {
  clientMessageId: string;
  conversationId: string;
  text: string;
  /** Milliseconds since the epoch, when it was written. */
  createdAt: number;
  /**
   * The version of the last clear when it was written. An item written before a later clear
   * belongs to a cleared session and is never sent, even by the same user (R7, R12).
   */
  clearedVersion: number;
  status: 'pending' | 'failed';
  /** Why the server refused it, on a failed item. */
  error?: SerializedError;
  /** Delivery order, assigned by the store when the item is added. */
  position?: number;
}

interface TabwardenSchema extends DBSchema {
  meta: { key: string; value: number | string };
  session: { key: string; value: SessionRecord };
  entries: { key: [string, number]; value: ConversationEntry };
  outbox: { key: number; value: OutboxItem; indexes: { byClientMessageId: string } };
}

type Database = IDBPDatabase<TabwardenSchema>;

/**
 * Schema migrations, oldest first. Version N's database is made by running the first N steps;
 * an upgrade runs the steps after the old version. Never edit a step that has shipped: add one.
 */
export const migrations: ReadonlyArray<(db: Database) => void> = [
  // 1: the session and the version counter.
  (db) => {
    db.createObjectStore('meta');
    db.createObjectStore('session');
  },
  // 2: the offline conversation cache and the outbox (R12).
  (db) => {
    db.createObjectStore('entries', { keyPath: ['conversationId', 'seq'] });
    (db as unknown as IDBPDatabase)
      .createObjectStore('outbox', { keyPath: 'clientMessageId' })
      .createIndex('byCreatedAt', 'createdAt');
  },
  // 3: the outbox in the order messages were written (two in one millisecond keep theirs), each
  // message once. Nothing wrote to the outbox of version 2.
  (db) => {
    db.deleteObjectStore('outbox');
    db.createObjectStore('outbox', { keyPath: 'position', autoIncrement: true }).createIndex(
      'byClientMessageId',
      'clientMessageId',
      { unique: true },
    );
  },
];

/** The schema version this release writes. */
export const SCHEMA_VERSION = migrations.length;

const SESSION_KEY = 'current';
const VERSION_KEY = 'sessionVersion';
const CLEARED_KEY = 'clearedVersion';
const CLEAR_REASON_KEY = 'clearReason';
const SESSION_STORES = ['meta', 'session', 'entries', 'outbox'] as const;

/**
 * tabwarden's IndexedDB store. One per worker.
 *
 * @example
 * ```ts
 * const store = await openSessionStore();
 * const session = await store.loadSession();
 * ```
 */
export interface SessionStore {
  /** What a (re)started worker restores, read in one transaction (R10). */
  loadState(): Promise<StoredState>;
  loadSession(): Promise<SessionRecord | undefined>;
  /** Writes the session and its version in one transaction. */
  saveSession(record: SessionRecord): Promise<void>;
  /** Deletes every record of the session (session, cached entries, outbox) and stores the new version, atomically and durably (R7). */
  clearSession(sessionVersion: number, reason: ClearReason): Promise<void>;
  /** Caches conversation entries for offline reading. */
  putEntries(entries: ConversationEntry[]): Promise<void>;
  /** Cached entries of a conversation after `afterSeq`, in order. */
  listEntries(conversationId: string, afterSeq: number): Promise<ConversationEntry[]>;
  /** Adds `item` at the end of the outbox; an item of the same client message id stays as it is. Resolves the stored item. */
  addToOutbox(item: OutboxItem): Promise<OutboxItem>;
  /** The outbox, in the order items were added. */
  listOutbox(): Promise<OutboxItem[]>;
  /** Rewrites a stored item (its status), in its place. */
  updateOutbox(item: OutboxItem): Promise<void>;
  removeFromOutbox(clientMessageId: string): Promise<void>;
  close(): void;
}

/** What the store tells its owner. */
export interface StoreEvents {
  /**
   * The database was deleted under the open store (site data cleared, `Clear-Site-Data`, another
   * context's `deleteDatabase`). The store opens a fresh one for its next operation; what it held
   * is gone.
   */
  onDeleted?: () => void;
  /**
   * `true`: the database cannot be upgraded to this release's schema while another tab holds an
   * older version open and does not step aside (idb's `blocked`). The open waits, and goes on
   * (`false`) once that tab closed it; meanwhile the store's owner can say why nothing works.
   */
  onBlocked?: (blocked: boolean) => void;
}

/** Opens (and creates or upgrades) the store in the runtime's IndexedDB (fake-indexeddb in Node). */
export async function openSessionStore(name = 'tabwarden', events: StoreEvents = {}): Promise<SessionStore> {
  let current: Promise<Database> | undefined;
  const connection = (): Promise<Database> =>
    (current ??= openDatabase(name, SCHEMA_VERSION, {
      onClosed(deleted) {
        // The next operation opens the database anew (or says why it cannot).
        current = undefined;
        if (deleted) events.onDeleted?.();
      },
      ...(events.onBlocked ? { onBlocked: events.onBlocked } : {}),
    }).catch((error: unknown) => {
      // Not kept: the next operation tries again.
      current = undefined;
      throw error;
    }));
  // Every operation on the connection of the moment; the browser's refusals become coded errors.
  const using =
    <A extends unknown[], T>(operation: (db: Database, ...args: A) => Promise<T>) =>
    async (...args: A): Promise<T> => {
      try {
        return await operation(await connection(), ...args);
      } catch (error) {
        throw storageError(error);
      }
    };
  await connection().catch((error: unknown) => {
    throw storageError(error);
  });
  return {
    loadState: using(async (db) => {
      // One transaction, every read in flight at once: each read is a round trip to the browser.
      const tx = db.transaction(['meta', 'session']);
      const meta = tx.objectStore('meta');
      const [version, clearedVersion, reason, session] = await Promise.all([
        meta.get(VERSION_KEY),
        meta.get(CLEARED_KEY),
        meta.get(CLEAR_REASON_KEY) as Promise<ClearReason | undefined>,
        tx.objectStore('session').get(SESSION_KEY),
      ]);
      const lastClear = {
        sessionVersion: Number(clearedVersion ?? 0),
        ...(reason === undefined ? {} : { reason }),
      };
      return { sessionVersion: Number(version ?? 0), lastClear, ...(session ? { session } : {}) };
    }),
    loadSession: using((db) => db.get('session', SESSION_KEY)),
    saveSession: using(async (db, record: SessionRecord) => {
      const tx = db.transaction(['session', 'meta'], 'readwrite');
      await Promise.all([
        tx.objectStore('session').put(record, SESSION_KEY),
        tx.objectStore('meta').put(record.sessionVersion, VERSION_KEY),
        tx.done,
      ]);
    }),
    clearSession: using(async (db, sessionVersion: number, reason: ClearReason) => {
      // 'strict' so the promise resolves only once the wipe is on disk.
      const tx = db.transaction(SESSION_STORES, 'readwrite', { durability: 'strict' });
      await Promise.all([
        tx.objectStore('session').clear(),
        tx.objectStore('entries').clear(),
        tx.objectStore('outbox').clear(),
        tx.objectStore('meta').put(sessionVersion, VERSION_KEY),
        tx.objectStore('meta').put(sessionVersion, CLEARED_KEY),
        tx.objectStore('meta').put(reason, CLEAR_REASON_KEY),
        tx.done,
      ]);
    }),
    putEntries: using(async (db, entries: ConversationEntry[]) => {
      const tx = db.transaction('entries', 'readwrite');
      await Promise.all([...entries.map((entry) => tx.store.put(entry)), tx.done]);
    }),
    listEntries: using((db, conversationId: string, afterSeq: number) =>
      db.getAll(
        'entries',
        IDBKeyRange.bound([conversationId, afterSeq], [conversationId, Infinity], true, false),
      ),
    ),
    addToOutbox: using(async (db, item: OutboxItem) => {
      const tx = db.transaction('outbox', 'readwrite');
      const existing = await tx.store.index('byClientMessageId').get(item.clientMessageId);
      const stored = existing ?? { ...item, position: await tx.store.add(item) };
      await tx.done;
      return stored;
    }),
    listOutbox: using((db) => db.getAll('outbox')),
    updateOutbox: using(async (db, item: OutboxItem) => {
      if (item.position === undefined) return;
      const tx = db.transaction('outbox', 'readwrite');
      // Only in place: an item removed meanwhile (delivered, discarded, cleared) stays removed.
      if (await tx.store.getKey(item.position)) await tx.store.put(item);
      await tx.done;
    }),
    removeFromOutbox: using(async (db, clientMessageId: string) => {
      const tx = db.transaction('outbox', 'readwrite');
      const position = await tx.store.index('byClientMessageId').getKey(clientMessageId);
      if (position !== undefined) await tx.store.delete(position);
      await tx.done;
    }),
    close() {
      void current?.then(
        (db) => db.close(),
        () => {},
      );
      current = undefined;
    },
  };
}

/** A refusal of the browser's storage as a coded error; anything else unchanged. */
function storageError(error: unknown): unknown {
  if (!(error instanceof DOMException)) return error;
  const message =
    error.name === 'QuotaExceededError'
      ? "The browser's storage quota for this site is used up"
      : error.name === 'VersionError'
        ? 'A newer release of tabwarden upgraded its database: reload the page'
        : `The browser's storage failed (${error.name})`;
  return new TabwardenError('ERR_STORAGE', message, { cause: error });
}

/** What {@link openDatabase} tells its caller about the connection. */
export interface DatabaseEvents {
  /** The connection closed under its owner: `deleted` when the database went with it. */
  onClosed?: (deleted: boolean) => void;
  /** The open waits for another connection to an older version to close, or goes on (see StoreEvents). */
  onBlocked?: (blocked: boolean) => void;
}

/** Opens the database at `version`, running the migrations it lacks. Exported for the upgrade test. */
export async function openDatabase(
  name: string,
  version: number,
  { onClosed, onBlocked }: DatabaseEvents = {},
): Promise<Database> {
  const db: Database = await openDB<TabwardenSchema>(name, version, {
    upgrade(upgrading, oldVersion) {
      onBlocked?.(false);
      for (let step = oldVersion; step < version; step++) migrations[step]?.(upgrading);
    },
    // An older connection did not step aside when asked (an old release's tab).
    blocked() {
      onBlocked?.(true);
    },
    // Someone deletes the database (no new version) or a newer release upgrades it: step aside
    // rather than block either forever.
    blocking(_currentVersion, newVersion) {
      db.close();
      onClosed?.(newVersion === null);
    },
    // The browser closed the connection itself: the site's data was cleared.
    terminated() {
      onClosed?.(true);
    },
  });
  return db;
}
