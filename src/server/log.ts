import { createHash } from 'node:crypto';

/** Receives one finished log line. */
export type Logger = (line: string) => void;

// A JWS/JWT in compact form (three base64url parts, the first a JSON header: "eyJ"), and any
// bearer credential in a header-like text.
const COMPACT_JWS = /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/g;
// A value starting with "[" is one this module already redacted.
const BEARER = /(Bearer\s+)(?!\[)([^\s"',;]+)/gi;

/**
 * A token's stand-in for logs: a short fingerprint that lets lines about the same token be
 * matched up, and nothing that could be replayed.
 *
 * @example
 * ```ts
 * log(`exchange refused ${code} token=${redactToken(token)}`); // token=[redacted sha256:1a2b3c4d]
 * ```
 */
export function redactToken(token: unknown): string {
  if (typeof token !== 'string' || token === '') return '[no token]';
  const digest = createHash('sha256').update(token).digest('hex').slice(0, 8);
  return `[redacted sha256:${digest}]`;
}

/**
 * Replaces anything token-shaped in `text` with its redacted form. The safety net under every
 * log line: code should log `redactToken(token)` anyway, but a token that sneaks into an error
 * message or a header dump still never reaches the log.
 *
 * @example
 * ```ts
 * redactSecrets('authorization: Bearer abc.def.ghi'); // 'authorization: Bearer [redacted sha256:…]'
 * ```
 */
export function redactSecrets(text: string): string {
  return text
    .replace(BEARER, (_match, prefix: string, token: string) => `${prefix}${redactToken(token)}`)
    .replace(COMPACT_JWS, (token) => redactToken(token));
}

/**
 * Wraps a sink so every line it receives has been through {@link redactSecrets} and carries a
 * timestamp.
 *
 * @example
 * ```ts
 * const log = createRedactingLogger((line) => console.log(line));
 * ```
 */
export function createRedactingLogger(sink: Logger, now: () => number = Date.now): Logger {
  return (line) => sink(`${new Date(now()).toISOString()} ${redactSecrets(line)}`);
}

/** The server's own log: every line redacted on its way to the sink. */
export interface ServerLog {
  (line: string): void;
  /** False when lines go nowhere: hot paths skip building (and hashing for) them. */
  readonly enabled: boolean;
}

/**
 * The log the server's routes write to: lines pass {@link redactSecrets} before `sink` sees them;
 * without a sink nothing is built or redacted at all.
 *
 * @example
 * ```ts
 * const log = createServerLog(options.log);
 * if (log.enabled) log(`exchange ok token=${redactToken(token)}`);
 * ```
 */
export function createServerLog(sink: Logger | undefined): ServerLog {
  if (!sink) return Object.assign((_line: string) => {}, { enabled: false });
  return Object.assign((line: string) => sink(redactSecrets(line)), { enabled: true });
}
