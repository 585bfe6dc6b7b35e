import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import type { ConversationEntry, Subject } from '../core/protocol.ts';
import { EntryHub, type ConversationListener } from './entry-hub.ts';
import type { ConversationRecord, NewEntry, ServerStore, SigningKeyRecord } from './store.ts';
import { toConversation, toEntry, type ConversationRow, type EntryRow } from './store-rows.ts';

/**
 * Ordered schema migrations. Each runs once, in a transaction with the bump of
 * `PRAGMA user_version`, so a crash mid-migration leaves the previous schema intact. Append
 * only: never edit a migration that has shipped.
 */
const migrations: string[] = [
  `
  CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    private_jwk TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE revoked_tokens (
    jti TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER NOT NULL
  );
  CREATE INDEX revoked_tokens_by_expiry ON revoked_tokens (expires_at);
  CREATE TABLE conversations (
    id TEXT PRIMARY KEY,
    subject_iss TEXT NOT NULL,
    subject_sub TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'ended')),
    created_at INTEGER NOT NULL,
    ended_at INTEGER
  );
  -- At most one open conversation per subject, whatever races between requests.
  CREATE UNIQUE INDEX one_open_conversation_per_subject
    ON conversations (subject_iss, subject_sub) WHERE status = 'open';
  CREATE TABLE entries (
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    seq INTEGER NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('user', 'agent', 'system')),
    text TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    client_message_id TEXT,
    PRIMARY KEY (conversation_id, seq)
  ) WITHOUT ROWID;
  -- Idempotency of posted messages (R12: the outbox may deliver the same message twice).
  CREATE UNIQUE INDEX entries_by_client_message_id
    ON entries (conversation_id, client_message_id) WHERE client_message_id IS NOT NULL;
  `,
];

/** The SQLite schema version this code writes. */
export const SQLITE_SCHEMA_VERSION = migrations.length;

function prepareStatements(db: Database.Database) {
  return {
    signingKeys: db.prepare<[], { kid: string; private_jwk: string; created_at: number }>(
      'SELECT kid, private_jwk, created_at FROM signing_keys ORDER BY created_at DESC',
    ),
    addSigningKey: db.prepare<[string, string, number]>(
      'INSERT INTO signing_keys (kid, private_jwk, created_at) VALUES (?, ?, ?)',
    ),
    revoke: db.prepare<[string, number, number]>(
      'INSERT INTO revoked_tokens (jti, expires_at, revoked_at) VALUES (?, ?, ?) ON CONFLICT (jti) DO NOTHING',
    ),
    // A revocation is only needed while the token could still pass its expiry check.
    pruneRevocations: db.prepare<[number]>('DELETE FROM revoked_tokens WHERE expires_at < ?'),
    isRevoked: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM revoked_tokens WHERE jti = ?'),
    openConversationOf: db.prepare<[string, string], ConversationRow>(
      "SELECT * FROM conversations WHERE subject_iss = ? AND subject_sub = ? AND status = 'open'",
    ),
    conversation: db.prepare<[string], ConversationRow>('SELECT * FROM conversations WHERE id = ?'),
    insertConversation: db.prepare<[string, string, string, number]>(
      "INSERT INTO conversations (id, subject_iss, subject_sub, status, created_at) VALUES (?, ?, ?, 'open', ?)",
    ),
    endConversation: db.prepare<[number, string]>(
      "UPDATE conversations SET status = 'ended', ended_at = ? WHERE id = ? AND status = 'open'",
    ),
    entriesAfter: db.prepare<[string, number], EntryRow>(
      'SELECT * FROM entries WHERE conversation_id = ? AND seq > ? ORDER BY seq',
    ),
    entryByClientId: db.prepare<[string, string], EntryRow>(
      'SELECT * FROM entries WHERE conversation_id = ? AND client_message_id = ?',
    ),
    nextSeq: db.prepare<[string], { next: number }>(
      'SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM entries WHERE conversation_id = ?',
    ),
    insertEntry: db.prepare<[string, number, string, string, number, string | null]>(
      'INSERT INTO entries (conversation_id, seq, role, text, created_at, client_message_id) VALUES (?, ?, ?, ?, ?, ?)',
    ),
  };
}

/**
 * The embedded store: SQLite through better-sqlite3, for one server instance. Its calls are
 * synchronous, so each method is one atomic step wrapped in a settled promise; multi-statement
 * writes run in transactions and never leave half a change behind. Listeners hear a change right
 * after its transaction committed, in the same tick.
 *
 * Durability: WAL with `synchronous=NORMAL` by default — a crash of the process loses nothing, a
 * crash of the operating system or a power cut can lose the last acknowledged transactions.
 * `synchronous: 'full'` syncs every commit instead.
 *
 * @example
 * ```ts
 * const store = openSqliteStore('./data/tabwarden.sqlite', { synchronous: 'full' });
 * ```
 */
export class SqliteStore implements ServerStore {
  readonly kind = 'sqlite';
  readonly #db: Database.Database;
  readonly #sql: ReturnType<typeof prepareStatements>;
  readonly #hub = new EntryHub();
  readonly #revocationListeners = new Set<(jti: string) => void>();

  constructor(db: Database.Database) {
    this.#db = db;
    this.#sql = prepareStatements(db);
  }

  async signingKeys(): Promise<SigningKeyRecord[]> {
    return this.#signingKeys();
  }

  #signingKeys(): SigningKeyRecord[] {
    return this.#sql.signingKeys
      .all()
      .map((row) => ({ kid: row.kid, privateJwk: row.private_jwk, createdAt: row.created_at }));
  }

  async addSigningKeyUnlessPresent(
    key: SigningKeyRecord,
    isSameKind: (stored: SigningKeyRecord) => boolean,
  ): Promise<void> {
    this.#db
      .transaction(() => {
        if (this.#signingKeys().some(isSameKind)) return;
        this.#sql.addSigningKey.run(key.kid, key.privateJwk, key.createdAt);
      })
      .immediate();
  }

  async revoke(jti: string, expiresAt: number, now: number): Promise<void> {
    this.#db.transaction(() => {
      this.#sql.pruneRevocations.run(now);
      this.#sql.revoke.run(jti, expiresAt, now);
    })();
    for (const listener of [...this.#revocationListeners]) listener(jti);
  }

  async isRevoked(jti: string): Promise<boolean> {
    return this.#sql.isRevoked.get(jti) !== undefined;
  }

  onRevoked(listener: (jti: string) => void): () => void {
    this.#revocationListeners.add(listener);
    return () => this.#revocationListeners.delete(listener);
  }

  async openConversation(
    subject: Subject,
    now: number,
  ): Promise<{ conversation: ConversationRecord; created: boolean }> {
    return this.#db
      .transaction(() => {
        const existing = this.#sql.openConversationOf.get(subject.iss, subject.sub);
        if (existing) return { conversation: toConversation(existing), created: false };
        const id = randomUUID();
        this.#sql.insertConversation.run(id, subject.iss, subject.sub, now);
        return {
          conversation: toConversation(this.#sql.conversation.get(id) as ConversationRow),
          created: true,
        };
      })
      .immediate();
  }

  async conversation(conversationId: string): Promise<ConversationRecord | undefined> {
    const row = this.#sql.conversation.get(conversationId);
    return row ? toConversation(row) : undefined;
  }

  async entriesAfter(conversationId: string, afterSeq: number): Promise<ConversationEntry[]> {
    return this.#sql.entriesAfter.all(conversationId, afterSeq).map(toEntry);
  }

  async lastSeq(conversationId: string): Promise<number> {
    return (this.#sql.nextSeq.get(conversationId) as { next: number }).next - 1;
  }

  async appendEntry(
    conversationId: string,
    entry: NewEntry,
    now: number,
  ): Promise<{ entry: ConversationEntry; created: boolean } | undefined> {
    const result = this.#db
      .transaction(() => {
        if (entry.clientMessageId !== undefined) {
          const existing = this.#sql.entryByClientId.get(conversationId, entry.clientMessageId);
          if (existing) return { entry: toEntry(existing), created: false };
        }
        if (this.#sql.conversation.get(conversationId)?.status !== 'open') return undefined;
        return { entry: this.#insert(conversationId, entry, now), created: true };
      })
      .immediate();
    if (result?.created) this.#hub.publish(conversationId, { type: 'entry', entry: result.entry });
    return result;
  }

  async endConversation(
    conversationId: string,
    closingEntry: NewEntry,
    now: number,
  ): Promise<ConversationEntry | undefined> {
    const closing = this.#db
      .transaction(() => {
        const { changes } = this.#sql.endConversation.run(now, conversationId);
        if (changes === 0) return undefined;
        return this.#insert(conversationId, closingEntry, now);
      })
      .immediate();
    if (closing) {
      this.#hub.publish(conversationId, { type: 'entry', entry: closing });
      this.#hub.publish(conversationId, { type: 'ended' });
    }
    return closing;
  }

  subscribe(conversationId: string, listener: ConversationListener): () => void {
    return this.#hub.subscribe(conversationId, listener);
  }

  /** Inserts with the next `seq`; only ever called inside a transaction. */
  #insert(conversationId: string, entry: NewEntry, now: number): ConversationEntry {
    const { next } = this.#sql.nextSeq.get(conversationId) as { next: number };
    const row: EntryRow = {
      conversation_id: conversationId,
      seq: next,
      role: entry.role,
      text: entry.text,
      created_at: now,
      client_message_id: entry.clientMessageId ?? null,
    };
    this.#sql.insertEntry.run(row.conversation_id, row.seq, row.role, row.text, now, row.client_message_id);
    return toEntry(row);
  }

  /** A pragma's value on this store's connection (tests read its durability settings). */
  pragma(name: 'synchronous' | 'journal_mode'): unknown {
    return this.#db.pragma(name, { simple: true });
  }

  /** Closes the database; the WAL is checkpointed into the main file. Idempotent. */
  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }
}

/**
 * Opens (creating if needed) the SQLite store at `file`, or an in-memory one for `:memory:`, and
 * brings its schema up to date. Refuses a database written by a newer version.
 *
 * @example
 * ```ts
 * const store = openSqliteStore('./data/tabwarden.sqlite');
 * ```
 */
export function openSqliteStore(
  file: string,
  options: { synchronous?: 'normal' | 'full' } = {},
): SqliteStore {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  try {
    // WAL: readers never block the writer. NORMAL syncs at checkpoints only: an OS crash can lose
    // the last commits (see the class comment); FULL syncs each commit.
    if (file !== ':memory:') db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db);
    return new SqliteStore(db);
  } catch (error) {
    db.close();
    throw error;
  }
}

function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length) {
    throw new Error(
      `The database has schema version ${current}; this server knows up to ${migrations.length}. Upgrade the server.`,
    );
  }
  for (let version = current; version < migrations.length; version++) {
    db.transaction(() => {
      db.exec(migrations[version] as string);
      db.pragma(`user_version = ${version + 1}`);
    }).immediate();
  }
}
