import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { ConversationEntry, Subject } from '../core/protocol.ts';
import { EntryHub, type ConversationListener } from './entry-hub.ts';
import type { ConversationRecord, NewEntry, ServerStore, SigningKeyRecord } from './store.ts';
import { toConversation, toEntry, type ConversationRow, type EntryRow } from './store-rows.ts';

/** The channel every instance listens on. */
const CHANNEL = 'tabwarden_events';
// Postgres refuses a NOTIFY payload of 8000 bytes or more; a larger entry is announced by its seq.
const MAX_PAYLOAD_BYTES = 7900;
// Any fixed number: the advisory lock that serialises migrations and the first signing key.
const SCHEMA_LOCK = 0x7461_6277;
const SIGNING_KEY_LOCK = 0x7461_6278;
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5000;

/**
 * Ordered schema migrations, each run once in a transaction with the bump of
 * `tabwarden_schema.version`. Append only: never edit a migration that has shipped.
 */
const migrations: string[] = [
  `
  CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    private_jwk TEXT NOT NULL,
    created_at BIGINT NOT NULL
  );
  CREATE TABLE revoked_tokens (
    jti TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT NOT NULL
  );
  CREATE INDEX revoked_tokens_by_expiry ON revoked_tokens (expires_at);
  CREATE TABLE conversations (
    id TEXT PRIMARY KEY,
    subject_iss TEXT NOT NULL,
    subject_sub TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'ended')),
    created_at BIGINT NOT NULL,
    ended_at BIGINT
  );
  -- At most one open conversation per subject, whatever races between instances.
  CREATE UNIQUE INDEX one_open_conversation_per_subject
    ON conversations (subject_iss, subject_sub) WHERE status = 'open';
  CREATE TABLE entries (
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    seq INTEGER NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('user', 'agent', 'system')),
    text TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    client_message_id TEXT,
    PRIMARY KEY (conversation_id, seq)
  );
  -- Idempotency of posted messages (R12: the outbox may deliver the same message twice).
  CREATE UNIQUE INDEX entries_by_client_message_id
    ON entries (conversation_id, client_message_id) WHERE client_message_id IS NOT NULL;
  `,
];

/** The Postgres schema version this code writes. */
export const POSTGRES_SCHEMA_VERSION = migrations.length;

/** What travels on the channel. */
type Notice =
  | { type: 'entry'; entry: ConversationEntry }
  | { type: 'behind'; conversationId: string; seq: number }
  | { type: 'ended'; conversationId: string }
  | { type: 'revoked'; jti: string };

/** The notice announcing `entry`: the entry itself when it fits in a payload, else its seq. */
function entryNotice(entry: ConversationEntry): string {
  const full = JSON.stringify({ type: 'entry', entry } satisfies Notice);
  if (Buffer.byteLength(full) <= MAX_PAYLOAD_BYTES) return full;
  return JSON.stringify({
    type: 'behind',
    conversationId: entry.conversationId,
    seq: entry.seq,
  } satisfies Notice);
}

// Timestamps are BIGINT milliseconds: read them as numbers (exact below 2^53), not strings.
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

const ENTRY_COLUMNS = 'conversation_id, seq, role, text, created_at, client_message_id';

/**
 * The shared store: Postgres through `pg`, for several server instances on one database. Writes
 * are transactions; appends to one conversation are serialised by a lock on its row, so sequence
 * numbers are gap-free and commit in order. Each change is announced with `NOTIFY` inside its
 * transaction, so it is heard only once committed, in commit order; every instance `LISTEN`s on
 * one connection of its own and fans the notices out to its streams. A lost listening connection
 * is reopened, and every stream is then told it may be behind (it rereads from the store).
 */
class PostgresStore implements ServerStore {
  readonly kind = 'postgres';
  readonly #pool: pg.Pool;
  readonly #config: pg.ClientConfig;
  readonly #hub = new EntryHub();
  readonly #revocationListeners = new Set<(jti: string) => void>();
  #listener: pg.Client | undefined;
  #closed = false;
  #reconnectDelay = RECONNECT_MIN_MS;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(config: pg.ClientConfig, poolSize: number) {
    this.#config = config;
    this.#pool = new pg.Pool({ ...config, max: poolSize });
    // An idle pooled connection that dies (a Postgres restart) must not crash the process.
    this.#pool.on('error', () => {});
  }

  /** Opens the listening connection; rejects when it cannot. */
  async listen(): Promise<void> {
    const client = new pg.Client(this.#config);
    client.on('notification', (message) => {
      if (message.channel === CHANNEL && message.payload !== undefined) this.#dispatch(message.payload);
    });
    client.on('error', () => this.#lost(client));
    client.on('end', () => this.#lost(client));
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    this.#listener = client;
    this.#reconnectDelay = RECONNECT_MIN_MS;
  }

  #lost(client: pg.Client): void {
    if (this.#listener !== client || this.#closed) return;
    this.#listener = undefined;
    client.end().catch(() => {});
    const retry = () => {
      this.#reconnectTimer = undefined;
      if (this.#closed) return;
      this.listen().then(
        // Whatever was announced while nobody listened is in the store: every stream rereads.
        () => this.#hub.publishToAll({ type: 'behind' }),
        () => {
          this.#reconnectDelay = Math.min(this.#reconnectDelay * 2, RECONNECT_MAX_MS);
          this.#reconnectTimer = setTimeout(retry, this.#reconnectDelay);
        },
      );
    };
    this.#reconnectTimer = setTimeout(retry, this.#reconnectDelay);
  }

  #dispatch(payload: string): void {
    let notice: Notice;
    try {
      notice = JSON.parse(payload) as Notice;
    } catch {
      return; // Not ours.
    }
    switch (notice.type) {
      case 'entry':
        this.#hub.publish(notice.entry.conversationId, { type: 'entry', entry: notice.entry });
        break;
      case 'behind':
        this.#hub.publish(notice.conversationId, { type: 'behind', seq: notice.seq });
        break;
      case 'ended':
        this.#hub.publish(notice.conversationId, { type: 'ended' });
        break;
      case 'revoked':
        for (const listener of [...this.#revocationListeners]) listener(notice.jti);
        break;
    }
  }

  /** Runs `work` in a transaction on one pooled connection. */
  async #transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  async migrate(): Promise<void> {
    await this.#transaction(async (client) => {
      // Instances starting together migrate one after the other.
      await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
      await client.query('CREATE TABLE IF NOT EXISTS tabwarden_schema (version INTEGER NOT NULL)');
      const { rows } = await client.query<{ version: number }>('SELECT version FROM tabwarden_schema');
      let current = rows[0]?.version ?? 0;
      if (rows.length === 0) await client.query('INSERT INTO tabwarden_schema (version) VALUES (0)');
      if (current > migrations.length) {
        throw new Error(
          `The database has schema version ${current}; this server knows up to ${migrations.length}. Upgrade the server.`,
        );
      }
      for (; current < migrations.length; current++) await client.query(migrations[current] as string);
      await client.query('UPDATE tabwarden_schema SET version = $1', [current]);
    });
  }

  async signingKeys(): Promise<SigningKeyRecord[]> {
    const { rows } = await this.#pool.query<{ kid: string; private_jwk: string; created_at: number }>(
      'SELECT kid, private_jwk, created_at FROM signing_keys ORDER BY created_at DESC',
    );
    return rows.map((row) => ({ kid: row.kid, privateJwk: row.private_jwk, createdAt: row.created_at }));
  }

  async addSigningKeyUnlessPresent(
    key: SigningKeyRecord,
    isSameKind: (stored: SigningKeyRecord) => boolean,
  ): Promise<void> {
    await this.#transaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [SIGNING_KEY_LOCK]);
      const { rows } = await client.query<{ kid: string; private_jwk: string; created_at: number }>(
        'SELECT kid, private_jwk, created_at FROM signing_keys',
      );
      const stored = rows.map((row) => ({
        kid: row.kid,
        privateJwk: row.private_jwk,
        createdAt: row.created_at,
      }));
      if (stored.some(isSameKind)) return;
      await client.query('INSERT INTO signing_keys (kid, private_jwk, created_at) VALUES ($1, $2, $3)', [
        key.kid,
        key.privateJwk,
        key.createdAt,
      ]);
    });
  }

  async revoke(jti: string, expiresAt: number, now: number): Promise<void> {
    await this.#transaction(async (client) => {
      // A revocation is only needed while the token could still pass its expiry check.
      await client.query('DELETE FROM revoked_tokens WHERE expires_at < $1', [now]);
      await client.query(
        'INSERT INTO revoked_tokens (jti, expires_at, revoked_at) VALUES ($1, $2, $3) ON CONFLICT (jti) DO NOTHING',
        [jti, expiresAt, now],
      );
      await client.query('SELECT pg_notify($1, $2)', [
        CHANNEL,
        JSON.stringify({ type: 'revoked', jti } satisfies Notice),
      ]);
    });
  }

  async isRevoked(jti: string): Promise<boolean> {
    const { rowCount } = await this.#pool.query('SELECT 1 FROM revoked_tokens WHERE jti = $1', [jti]);
    return (rowCount ?? 0) > 0;
  }

  onRevoked(listener: (jti: string) => void): () => void {
    this.#revocationListeners.add(listener);
    return () => this.#revocationListeners.delete(listener);
  }

  async openConversation(
    subject: Subject,
    now: number,
  ): Promise<{ conversation: ConversationRecord; created: boolean }> {
    // The partial unique index settles races: the loser's insert does nothing and it reads the
    // winner's. The read can miss only if that conversation ended in between; then try again.
    for (;;) {
      const inserted = await this.#pool.query<ConversationRow>(
        `INSERT INTO conversations (id, subject_iss, subject_sub, status, created_at)
         VALUES ($1, $2, $3, 'open', $4)
         ON CONFLICT (subject_iss, subject_sub) WHERE status = 'open' DO NOTHING
         RETURNING *`,
        [randomUUID(), subject.iss, subject.sub, now],
      );
      if (inserted.rows[0]) return { conversation: toConversation(inserted.rows[0]), created: true };
      const existing = await this.#pool.query<ConversationRow>(
        "SELECT * FROM conversations WHERE subject_iss = $1 AND subject_sub = $2 AND status = 'open'",
        [subject.iss, subject.sub],
      );
      if (existing.rows[0]) return { conversation: toConversation(existing.rows[0]), created: false };
    }
  }

  async conversation(conversationId: string): Promise<ConversationRecord | undefined> {
    const { rows } = await this.#pool.query<ConversationRow>('SELECT * FROM conversations WHERE id = $1', [
      conversationId,
    ]);
    return rows[0] ? toConversation(rows[0]) : undefined;
  }

  async entriesAfter(conversationId: string, afterSeq: number): Promise<ConversationEntry[]> {
    const { rows } = await this.#pool.query<EntryRow>(
      `SELECT ${ENTRY_COLUMNS} FROM entries WHERE conversation_id = $1 AND seq > $2 ORDER BY seq`,
      [conversationId, afterSeq],
    );
    return rows.map(toEntry);
  }

  async lastSeq(conversationId: string): Promise<number> {
    const { rows } = await this.#pool.query<{ last: number }>(
      'SELECT COALESCE(MAX(seq), 0) AS last FROM entries WHERE conversation_id = $1',
      [conversationId],
    );
    return rows[0]?.last ?? 0;
  }

  async appendEntry(
    conversationId: string,
    entry: NewEntry,
    now: number,
  ): Promise<{ entry: ConversationEntry; created: boolean } | undefined> {
    if (entry.clientMessageId !== undefined) {
      // A retried delivery, the common case worth a lock-free answer.
      const existing = await this.#entryByClientId(this.#pool, conversationId, entry.clientMessageId);
      if (existing) return { entry: existing, created: false };
    }
    return this.#transaction(async (client) => {
      // The row lock serialises appends to this conversation until commit: gap-free seqs,
      // committed (and so announced) in order.
      const { rows } = await client.query<{ status: string }>(
        'SELECT status FROM conversations WHERE id = $1 FOR UPDATE',
        [conversationId],
      );
      if (entry.clientMessageId !== undefined) {
        const existing = await this.#entryByClientId(client, conversationId, entry.clientMessageId);
        if (existing) return { entry: existing, created: false };
      }
      if (rows[0]?.status !== 'open') return undefined;
      return { entry: await this.#insert(client, conversationId, entry, now), created: true };
    });
  }

  async #entryByClientId(
    client: pg.Pool | pg.PoolClient,
    conversationId: string,
    clientMessageId: string,
  ): Promise<ConversationEntry | undefined> {
    const { rows } = await client.query<EntryRow>(
      `SELECT ${ENTRY_COLUMNS} FROM entries WHERE conversation_id = $1 AND client_message_id = $2`,
      [conversationId, clientMessageId],
    );
    return rows[0] ? toEntry(rows[0]) : undefined;
  }

  async endConversation(
    conversationId: string,
    closingEntry: NewEntry,
    now: number,
  ): Promise<ConversationEntry | undefined> {
    return this.#transaction(async (client) => {
      const { rowCount } = await client.query(
        "UPDATE conversations SET status = 'ended', ended_at = $1 WHERE id = $2 AND status = 'open'",
        [now, conversationId],
      );
      if (rowCount === 0) return undefined;
      const closing = await this.#insert(client, conversationId, closingEntry, now);
      await client.query('SELECT pg_notify($1, $2)', [
        CHANNEL,
        JSON.stringify({ type: 'ended', conversationId } satisfies Notice),
      ]);
      return closing;
    });
  }

  /** Inserts with the next `seq` and announces it; only inside a transaction holding the row lock. */
  async #insert(
    client: pg.PoolClient,
    conversationId: string,
    entry: NewEntry,
    now: number,
  ): Promise<ConversationEntry> {
    const { rows } = await client.query<{ seq: number }>(
      `INSERT INTO entries (${ENTRY_COLUMNS})
       SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3, $4, $5 FROM entries WHERE conversation_id = $1
       RETURNING seq`,
      [conversationId, entry.role, entry.text, now, entry.clientMessageId ?? null],
    );
    const stored = toEntry({
      conversation_id: conversationId,
      seq: (rows[0] as { seq: number }).seq,
      role: entry.role,
      text: entry.text,
      created_at: now,
      client_message_id: entry.clientMessageId ?? null,
    });
    await client.query('SELECT pg_notify($1, $2)', [CHANNEL, entryNotice(stored)]);
    return stored;
  }

  subscribe(conversationId: string, listener: ConversationListener): () => void {
    return this.#hub.subscribe(conversationId, listener);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#reconnectTimer);
    const listener = this.#listener;
    this.#listener = undefined;
    await Promise.all([listener?.end().catch(() => {}), this.#pool.end()]);
  }
}

/**
 * Opens the Postgres store at `url`, brings its schema up to date (instances starting together
 * take turns) and starts listening for other instances' changes. Refuses a database written by a
 * newer version.
 *
 * @example
 * ```ts
 * const store = await openPostgresStore('postgres://tabwarden@127.0.0.1:5432/tabwarden', { poolSize: 10 });
 * ```
 */
export async function openPostgresStore(
  url: string,
  options: { poolSize?: number } = {},
): Promise<ServerStore> {
  const store = new PostgresStore({ connectionString: url, types }, options.poolSize ?? 10);
  try {
    await store.migrate();
    await store.listen();
    return store;
  } catch (error) {
    await store.close();
    throw error;
  }
}
