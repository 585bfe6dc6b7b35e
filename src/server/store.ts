import type { ConversationEntry, Subject } from '../core/protocol.ts';
import type { ConversationListener } from './entry-hub.ts';

/** A conversation as stored. */
export interface ConversationRecord {
  conversationId: string;
  subject: Subject;
  status: 'open' | 'ended';
  createdAt: number;
  endedAt: number | null;
}

/** A signing key of the server's own authorization tokens. */
export interface SigningKeyRecord {
  kid: string;
  /** The private key as a JWK, JSON-encoded. */
  privateJwk: string;
  createdAt: number;
}

/** What a new entry says; the store assigns `seq` and `createdAt`. */
export interface NewEntry {
  role: ConversationEntry['role'];
  text: string;
  clientMessageId?: string;
}

/**
 * The server's store: signing keys, revocations, conversations and their entries, and the feed
 * of committed changes. Two implementations: SQLite (embedded, one instance) and Postgres (several
 * instances share it). Every write is one transaction; listeners hear of a change only after it
 * committed, in commit order per conversation — on Postgres, on every instance.
 *
 * @example
 * ```ts
 * const store = await openServerStore(':memory:'); // or 'postgres://user@host/db'
 * const { conversation } = await store.openConversation({ iss: 'https://idp', sub: 'alice' }, Date.now());
 * const stop = store.subscribe(conversation.conversationId, (event) => console.log(event));
 * await store.appendEntry(conversation.conversationId, { role: 'user', text: 'hi', clientMessageId: 'm1' }, Date.now());
 * stop();
 * await store.close();
 * ```
 */
export interface ServerStore {
  readonly kind: 'sqlite' | 'postgres';

  /** The server's signing keys, newest first. */
  signingKeys(): Promise<SigningKeyRecord[]>;
  /**
   * Adds `key` unless a stored key already passes `isSameKind`: instances starting at once on
   * one database end up with one signing secret, not one each.
   */
  addSigningKeyUnlessPresent(
    key: SigningKeyRecord,
    isSameKind: (stored: SigningKeyRecord) => boolean,
  ): Promise<void>;

  /** Records that the token `jti` is revoked until `expiresAt` (ms) and tells every listener. */
  revoke(jti: string, expiresAt: number, now: number): Promise<void>;
  isRevoked(jti: string): Promise<boolean>;
  /** Hears every revocation recorded from now on, by any instance. */
  onRevoked(listener: (jti: string) => void): () => void;

  /** The subject's open conversation, created when there is none. */
  openConversation(
    subject: Subject,
    now: number,
  ): Promise<{ conversation: ConversationRecord; created: boolean }>;
  conversation(conversationId: string): Promise<ConversationRecord | undefined>;
  entriesAfter(conversationId: string, afterSeq: number): Promise<ConversationEntry[]>;
  /** The `seq` of the conversation's last entry, 0 when it has none. */
  lastSeq(conversationId: string): Promise<number>;
  /**
   * Appends an entry with the next sequence number, if the conversation is open. With a
   * `clientMessageId` already stored in this conversation, stores nothing and returns the stored
   * entry (`created: false`), open or not: a retried delivery gets the same answer. Returns
   * `undefined` when the conversation is missing or ended.
   */
  appendEntry(
    conversationId: string,
    entry: NewEntry,
    now: number,
  ): Promise<{ entry: ConversationEntry; created: boolean } | undefined>;
  /**
   * Ends an open conversation and appends `closingEntry` in the same transaction. Returns the
   * closing entry, or `undefined` when the conversation was not open (ending twice is a no-op).
   */
  endConversation(
    conversationId: string,
    closingEntry: NewEntry,
    now: number,
  ): Promise<ConversationEntry | undefined>;
  /** Hears the conversation's committed entries and its end, from any instance. */
  subscribe(conversationId: string, listener: ConversationListener): () => void;

  /** Closes the database (and its listening connection). Idempotent. */
  close(): Promise<void>;
}

/** True for a `postgres://` or `postgresql://` connection string. */
export function isPostgresUrl(database: string): boolean {
  return /^postgres(ql)?:\/\//i.test(database);
}

/**
 * Opens the store `database` names: a Postgres connection string, a SQLite file (created with its
 * folder when missing) or `:memory:`, and brings its schema up to date. Refuses a database
 * written by a newer version.
 *
 * @example
 * ```ts
 * const embedded = await openServerStore('./data/tabwarden.sqlite');
 * const shared = await openServerStore('postgres://tabwarden@db.internal/tabwarden');
 * ```
 */
export async function openServerStore(
  database: string,
  options: { sqliteSynchronous?: 'normal' | 'full'; postgresPoolSize?: number } = {},
): Promise<ServerStore> {
  if (isPostgresUrl(database)) {
    const { openPostgresStore } = await import('./postgres-store.ts');
    return openPostgresStore(
      database,
      options.postgresPoolSize === undefined ? {} : { poolSize: options.postgresPoolSize },
    );
  }
  const { openSqliteStore } = await import('./sqlite-store.ts');
  return openSqliteStore(
    database,
    options.sqliteSynchronous === undefined ? {} : { synchronous: options.sqliteSynchronous },
  );
}
