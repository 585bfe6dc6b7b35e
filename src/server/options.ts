import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { JSONWebKeySet } from 'jose';
import { systemClock, type Clock } from '../core/clock.ts';
import { MESSAGE_TEXT_LIMIT } from '../core/message-rules.ts';
import type { IdentityTokenAlgorithm } from '../core/verify-identity-token.ts';
import type { Logger } from './log.ts';
import { PACKAGE_BUNDLES_DIR, PACKAGE_PUBLIC_DIR } from './package-files.ts';

/**
 * Everything the reference server can be told. Every field has a default except the identity
 * provider's keyset, which demo mode supplies by itself.
 *
 * @example
 * ```ts
 * const server = await startServer({
 *   issuer: 'https://idp.example.com',
 *   jwksUrl: 'https://idp.example.com/.well-known/jwks.json',
 *   database: ':memory:',
 * });
 * ```
 */
export interface ServerOptions {
  /** TCP port; 0 picks a free one. Default 0 (the CLI's default is 8787). */
  port?: number;
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Folder for the database and the demo identity provider's key. Default `./data`. */
  dataDir?: string;
  /**
   * A `postgres://` URL (several instances share it), a SQLite file, or `:memory:`. Default
   * `<dataDir>/tabwarden.sqlite`.
   */
  database?: string;
  /**
   * SQLite's `synchronous` setting. `normal` (default, with WAL): a process crash loses nothing,
   * an OS crash or power cut can lose the last acknowledged writes. `full`: syncs every commit.
   */
  sqliteSynchronous?: 'normal' | 'full';
  /** Connections each instance keeps to Postgres, besides its listening one. Default 10. */
  postgresPoolSize?: number;

  /** The identity tokens' required `iss`. Defaults to the demo identity provider's in demo mode. */
  issuer?: string;
  /** Inline JWKS of the identity provider. Give one of `jwks`, `jwksFile`, `jwksUrl`. */
  jwks?: JSONWebKeySet;
  /** A file holding the identity provider's JWKS, read once at start. */
  jwksFile?: string;
  /** Where to fetch the identity provider's JWKS (cached, refetched on an unknown `kid`). */
  jwksUrl?: string;
  /** Accepted `aud` value(s); unchecked when absent. */
  audience?: string | string[];
  /** Accepted identity-token algorithms. Default `['RS256']`. */
  algorithms?: IdentityTokenAlgorithm[];
  /** Leeway for `exp`/`nbf` of identity tokens, in seconds. Default 0. */
  clockToleranceSeconds?: number;

  /** Lifetime of the authorization tokens the server issues, in seconds. Default 3600 (R4). */
  accessTokenLifetimeSeconds?: number;
  /** How long the demo agent takes to answer a message, in ms. Default 800. */
  agentReplyDelayMs?: number;
  /** Largest accepted request body, in bytes. Default 64 KiB. */
  bodyLimitBytes?: number;
  /** Longest accepted message text, in code points. Default {@link MESSAGE_TEXT_LIMIT} (4000). */
  messageTextLimit?: number;
  /** Exchanges allowed per client address per minute (a burst of as many); 0 turns it off. Default 60. */
  exchangesPerAddressPerMinute?: number;
  /** Exchanges allowed per subject per minute (a burst of as many); 0 turns it off. Default 20. */
  exchangesPerSubjectPerMinute?: number;
  /**
   * Event streams one authorization token may hold open on one instance; past it, 429
   * `ERR_TOO_MANY_STREAMS`. tabwarden's worker holds one per browser profile. Default 10.
   */
  streamsPerAccessToken?: number;
  /** Origins allowed to call the API cross-origin. Default none (CORS off). */
  corsOrigins?: string[];

  /** Turns on the demo identity provider's routes. Default false. */
  demo?: boolean;
  /** Static files served at `/`. Default: the package's demo portal (`public/`). */
  staticDir?: string;
  /** Built page/worker bundles served at `/bundles/`, when the folder exists. Default: the package's `dist/bundles`. */
  bundlesDir?: string;

  /** Interval of SSE keep-alive comments, in ms. Default 15000. */
  sseHeartbeatMs?: number;
  /** How long `close()` lets in-flight requests run before cutting connections, in ms. Default 10000. */
  shutdownTimeoutMs?: number;
  /** Time source, for tests. Default the system clock. */
  clock?: Clock;
  /** Where log lines go (already redacted). Default: nowhere. */
  log?: Logger;
  /**
   * Called for every request as it arrives, before any handling (tests count requests with it,
   * e.g. that five tabs make one exchange). Gets the method and the path, never a query or body;
   * may return a function that gets the answer's status once the request is answered.
   */
  onRequest?: (request: { method: string; path: string }) => ((status: number) => void) | void;
}

/** {@link ServerOptions} with every default filled in. */
// `log` stays as given: without one, the server builds no log lines at all.
type Unresolved = 'issuer' | 'jwks' | 'jwksFile' | 'jwksUrl' | 'audience' | 'log';
export type ResolvedServerOptions = Required<Omit<ServerOptions, Unresolved>> &
  Pick<ServerOptions, Unresolved>;

/**
 * Fills in defaults and refuses values that make no sense, before anything is opened. Errors
 * name each option by `nameOf` (the CLI passes the flag or environment variable the user set).
 *
 * @example
 * ```ts
 * const resolved = resolveServerOptions({ demo: true }); // defaults filled in
 * resolveServerOptions({ port: -1, demo: true }, { nameOf: () => '--port' }); // TypeError: --port must be …
 * ```
 */
export function resolveServerOptions(
  options: ServerOptions,
  naming: { nameOf?: (option: keyof ServerOptions) => string } = {},
): ResolvedServerOptions {
  const name = naming.nameOf ?? ((option: keyof ServerOptions) => option);
  const dataDir = options.dataDir ?? 'data';
  const resolved: ResolvedServerOptions = {
    ...options,
    port: options.port ?? 0,
    host: options.host ?? '127.0.0.1',
    dataDir,
    database: options.database ?? join(dataDir, 'tabwarden.sqlite'),
    sqliteSynchronous: options.sqliteSynchronous ?? 'normal',
    postgresPoolSize: options.postgresPoolSize ?? 10,
    streamsPerAccessToken: options.streamsPerAccessToken ?? 10,
    algorithms: options.algorithms ?? ['RS256'],
    clockToleranceSeconds: options.clockToleranceSeconds ?? 0,
    accessTokenLifetimeSeconds: options.accessTokenLifetimeSeconds ?? 3600,
    agentReplyDelayMs: options.agentReplyDelayMs ?? 800,
    bodyLimitBytes: options.bodyLimitBytes ?? 64 * 1024,
    messageTextLimit: options.messageTextLimit ?? MESSAGE_TEXT_LIMIT,
    exchangesPerAddressPerMinute: options.exchangesPerAddressPerMinute ?? 60,
    exchangesPerSubjectPerMinute: options.exchangesPerSubjectPerMinute ?? 20,
    corsOrigins: options.corsOrigins ?? [],
    demo: options.demo ?? false,
    staticDir: options.staticDir ?? PACKAGE_PUBLIC_DIR,
    bundlesDir: options.bundlesDir ?? PACKAGE_BUNDLES_DIR,
    sseHeartbeatMs: options.sseHeartbeatMs ?? 15_000,
    shutdownTimeoutMs: options.shutdownTimeoutMs ?? 10_000,
    clock: options.clock ?? systemClock,
    onRequest: options.onRequest ?? (() => {}),
  };
  const keysetOptions = (['jwks', 'jwksFile', 'jwksUrl'] as const).filter(
    (key) => resolved[key] !== undefined,
  );
  const keysetNames = () => keysetOptions.map(name).join(' and ');
  if (keysetOptions.length > 1) throw new TypeError(`Give only one of ${keysetNames()}`);
  if (!resolved.demo && !resolved.issuer && keysetOptions.length === 0) {
    throw new TypeError(
      `Configure the identity provider (${name('issuer')} and one of ${name('jwks')}, ${name('jwksFile')}, ${name('jwksUrl')}), or use ${name('demo')}`,
    );
  }
  if (!resolved.demo && keysetOptions.length === 0) {
    throw new TypeError(
      `${name('issuer')} is set but no keys to verify its tokens: give ${name('jwksFile')}, ${name('jwks')} or ${name('jwksUrl')}`,
    );
  }
  if (keysetOptions.length > 0 && !resolved.issuer) {
    throw new TypeError(
      `${keysetNames()} is set but ${name('issuer')} is missing: the keys need their issuer`,
    );
  }
  if (resolved.jwksFile !== undefined && !existsSync(resolved.jwksFile)) {
    throw new TypeError(`${name('jwksFile')} ${resolved.jwksFile}: no such file`);
  }
  // Numeric options and the least each may be: sizes and periods above 0, counts and delays from 0.
  const minimums: Array<[keyof ResolvedServerOptions & keyof ServerOptions, 'positive' | 'non-negative']> = [
    ['accessTokenLifetimeSeconds', 'positive'],
    ['bodyLimitBytes', 'positive'],
    ['messageTextLimit', 'positive'],
    ['sseHeartbeatMs', 'positive'],
    ['postgresPoolSize', 'positive'],
    ['streamsPerAccessToken', 'positive'],
    ['port', 'non-negative'],
    ['clockToleranceSeconds', 'non-negative'],
    ['agentReplyDelayMs', 'non-negative'],
    ['exchangesPerAddressPerMinute', 'non-negative'],
    ['exchangesPerSubjectPerMinute', 'non-negative'],
    ['shutdownTimeoutMs', 'non-negative'],
  ];
  for (const [option, minimum] of minimums) {
    const value = resolved[option];
    const positive = minimum === 'positive';
    if (typeof value !== 'number' || !Number.isFinite(value) || (positive ? value <= 0 : value < 0)) {
      throw new TypeError(
        `${name(option)} must be ${positive ? 'a positive number' : 'a number of at least 0'}`,
      );
    }
  }
  if (!Number.isInteger(resolved.port) || resolved.port > 65535) {
    throw new TypeError(`${name('port')} must be a whole number from 0 to 65535`);
  }
  if (resolved.sqliteSynchronous !== 'normal' && resolved.sqliteSynchronous !== 'full') {
    throw new TypeError(`${name('sqliteSynchronous')} must be normal or full`);
  }
  return resolved;
}
