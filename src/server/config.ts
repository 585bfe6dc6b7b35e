import { parseArgs } from 'node:util';
import type { JSONWebKeySet } from 'jose';
import { MESSAGE_TEXT_LIMIT } from '../core/message-rules.ts';
import type { IdentityTokenAlgorithm } from '../core/verify-identity-token.ts';
import type { ResolvedServerOptions, ServerOptions } from './options.ts';
import { isPostgresUrl } from './store.ts';

/** One setting: its flag, its environment variable, what it means. */
interface Setting {
  flag: string;
  env: string;
  type: 'string' | 'boolean';
  help: string;
}

/** Every setting of the CLI. Flags win over environment variables, which win over defaults. */
export const settings = {
  port: {
    flag: 'port',
    env: 'TABWARDEN_PORT',
    type: 'string',
    help: 'TCP port (default 8787; 0 = any free)',
  },
  host: { flag: 'host', env: 'TABWARDEN_HOST', type: 'string', help: 'interface (default 127.0.0.1)' },
  dataDir: {
    flag: 'data-dir',
    env: 'TABWARDEN_DATA_DIR',
    type: 'string',
    help: 'data folder (default ./data)',
  },
  database: {
    flag: 'database',
    env: 'TABWARDEN_DATABASE',
    type: 'string',
    help: 'postgres://… URL (several instances), SQLite file or :memory: (default <data-dir>/tabwarden.sqlite)',
  },
  sqliteSynchronous: {
    flag: 'sqlite-synchronous',
    env: 'TABWARDEN_SQLITE_SYNCHRONOUS',
    type: 'string',
    help: 'normal (default: an OS crash may lose the last writes) or full (sync every commit)',
  },
  postgresPoolSize: {
    flag: 'postgres-pool-size',
    env: 'TABWARDEN_POSTGRES_POOL_SIZE',
    type: 'string',
    help: 'connections to Postgres per instance, besides its listening one (default 10)',
  },
  streamsPerAccessToken: {
    flag: 'streams-per-token',
    env: 'TABWARDEN_STREAMS_PER_TOKEN',
    type: 'string',
    help: 'event streams one authorization token may hold per instance (default 10)',
  },
  issuer: {
    flag: 'issuer',
    env: 'TABWARDEN_ISSUER',
    type: 'string',
    help: 'required iss of identity tokens',
  },
  jwks: { flag: 'jwks', env: 'TABWARDEN_JWKS', type: 'string', help: 'identity provider JWKS, inline JSON' },
  jwksFile: { flag: 'jwks-file', env: 'TABWARDEN_JWKS_FILE', type: 'string', help: 'file with the JWKS' },
  jwksUrl: { flag: 'jwks-url', env: 'TABWARDEN_JWKS_URL', type: 'string', help: 'URL of the JWKS' },
  audience: {
    flag: 'audience',
    env: 'TABWARDEN_AUDIENCE',
    type: 'string',
    help: 'accepted aud, comma-separated (default: unchecked)',
  },
  algorithms: {
    flag: 'algorithms',
    env: 'TABWARDEN_ALGORITHMS',
    type: 'string',
    help: 'RS256 and/or RS512, comma-separated (default RS256)',
  },
  clockToleranceSeconds: {
    flag: 'clock-tolerance',
    env: 'TABWARDEN_CLOCK_TOLERANCE',
    type: 'string',
    help: 'seconds of leeway for exp/nbf (default 0)',
  },
  accessTokenLifetimeSeconds: {
    flag: 'access-token-lifetime',
    env: 'TABWARDEN_ACCESS_TOKEN_LIFETIME',
    type: 'string',
    help: 'authorization token lifetime in seconds (default 3600)',
  },
  agentReplyDelayMs: {
    flag: 'agent-delay',
    env: 'TABWARDEN_AGENT_DELAY_MS',
    type: 'string',
    help: 'demo agent reply delay in ms (default 800)',
  },
  bodyLimitBytes: {
    flag: 'body-limit',
    env: 'TABWARDEN_BODY_LIMIT',
    type: 'string',
    help: 'largest request body in bytes (default 65536)',
  },
  messageTextLimit: {
    flag: 'message-limit',
    env: 'TABWARDEN_MESSAGE_LIMIT',
    type: 'string',
    help: `longest message text in code points (default ${MESSAGE_TEXT_LIMIT})`,
  },
  exchangesPerAddressPerMinute: {
    flag: 'rate-per-address',
    env: 'TABWARDEN_RATE_PER_ADDRESS',
    type: 'string',
    help: 'exchanges per client address per minute, 0 = off (default 60)',
  },
  exchangesPerSubjectPerMinute: {
    flag: 'rate-per-subject',
    env: 'TABWARDEN_RATE_PER_SUBJECT',
    type: 'string',
    help: 'exchanges per subject per minute, 0 = off (default 20)',
  },
  corsOrigins: {
    flag: 'cors-origins',
    env: 'TABWARDEN_CORS_ORIGINS',
    type: 'string',
    help: 'origins allowed cross-origin, comma-separated (default none)',
  },
  demo: {
    flag: 'demo',
    env: 'TABWARDEN_DEMO',
    type: 'boolean',
    help: 'demo mode: demo identity provider routes (default off)',
  },
  staticDir: {
    flag: 'static-dir',
    env: 'TABWARDEN_STATIC_DIR',
    type: 'string',
    help: 'static files (default public)',
  },
  bundlesDir: {
    flag: 'bundles-dir',
    env: 'TABWARDEN_BUNDLES_DIR',
    type: 'string',
    help: 'built bundles served at /bundles/ (default dist/bundles)',
  },
} satisfies Record<string, Setting>;

type SettingName = keyof typeof settings;

/** The CLI's help text. */
export function usage(): string {
  const lines = [
    'Usage: tabwarden-server [options]   (in this repository: npm run server -- [options])',
    '',
    'Options (flag / environment variable):',
  ];
  for (const setting of Object.values(settings) as Setting[]) {
    const flag = `--${setting.flag}${setting.type === 'string' ? ' <value>' : ''}`;
    lines.push(`  ${flag.padEnd(34)} ${setting.env.padEnd(32)} ${setting.help}`);
  }
  lines.push(`  ${'-h, --help'.padEnd(34)} ${''.padEnd(32)} this text`);
  lines.push(`  ${'--version'.padEnd(34)} ${''.padEnd(32)} the version`);
  return lines.join('\n');
}

function number(name: string, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value))
    throw new TypeError(`${name} must be a number, not "${text}"`);
  return value;
}

/** What the command line asked for. */
export interface ParsedConfig {
  options: ServerOptions;
  help: boolean;
  version: boolean;
  /**
   * Where the user set each option: its flag (`--rate-per-address`) or its environment variable
   * (`TABWARDEN_RATE_PER_ADDRESS`), so errors name what the user wrote.
   */
  nameOf(option: keyof ServerOptions): string;
}

function list(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function flagOrEnv(
  name: SettingName,
  values: Record<string, string | boolean | undefined>,
  env: Record<string, string | undefined>,
): { text: string; from: string } | undefined {
  const setting: Setting = settings[name];
  const fromFlag = values[setting.flag];
  if (typeof fromFlag === 'string') return { text: fromFlag, from: `--${setting.flag}` };
  if (fromFlag === true) return { text: 'true', from: `--${setting.flag}` };
  const fromEnv = env[setting.env];
  return fromEnv === undefined || fromEnv === '' ? undefined : { text: fromEnv, from: setting.env };
}

/**
 * Reads the server's options from CLI flags and environment variables (flags win). Unknown flags
 * and malformed values are errors, so a typo never silently falls back to a default.
 *
 * @example
 * ```ts
 * const { options, help, nameOf } = parseConfig(process.argv.slice(2), process.env);
 * const resolved = resolveServerOptions(options, { nameOf }); // errors name --flag or TABWARDEN_*
 * ```
 */
export function parseConfig(argv: string[], env: Record<string, string | undefined>): ParsedConfig {
  const parseOptions: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean' },
  };
  for (const setting of Object.values(settings) as Setting[])
    parseOptions[setting.flag] = { type: setting.type };
  const { values } = parseArgs({ args: argv, options: parseOptions, strict: true, allowPositionals: false });
  const sources = new Map<string, string>();
  const get = (name: SettingName) => {
    const found = flagOrEnv(name, values, env);
    if (found) sources.set(name, found.from);
    return found?.text;
  };
  const options: ServerOptions = { port: 8787 };

  const numeric = [
    'port',
    'clockToleranceSeconds',
    'accessTokenLifetimeSeconds',
    'agentReplyDelayMs',
    'bodyLimitBytes',
    'messageTextLimit',
    'exchangesPerAddressPerMinute',
    'exchangesPerSubjectPerMinute',
  ] as const;
  for (const name of numeric) {
    const text = get(name);
    if (text !== undefined) options[name] = number(sources.get(name) as string, text);
  }
  const poolSize = get('postgresPoolSize');
  if (poolSize !== undefined)
    options.postgresPoolSize = number(sources.get('postgresPoolSize') as string, poolSize);
  const streams = get('streamsPerAccessToken');
  if (streams !== undefined)
    options.streamsPerAccessToken = number(sources.get('streamsPerAccessToken') as string, streams);
  const synchronous = get('sqliteSynchronous');
  if (synchronous !== undefined) {
    options.sqliteSynchronous = synchronous.toLowerCase() as NonNullable<ServerOptions['sqliteSynchronous']>;
  }
  for (const name of [
    'host',
    'dataDir',
    'database',
    'issuer',
    'jwksFile',
    'jwksUrl',
    'staticDir',
    'bundlesDir',
  ] as const) {
    const text = get(name);
    if (text !== undefined) options[name] = text;
  }
  const jwks = get('jwks');
  if (jwks !== undefined) {
    try {
      options.jwks = JSON.parse(jwks) as JSONWebKeySet;
    } catch {
      throw new TypeError(`${sources.get('jwks')} must be a JSON Web Key Set`);
    }
  }
  const audience = get('audience');
  if (audience !== undefined) {
    const audiences = list(audience);
    options.audience = audiences.length === 1 ? (audiences[0] as string) : audiences;
  }
  const algorithms = get('algorithms');
  if (algorithms !== undefined) options.algorithms = list(algorithms) as IdentityTokenAlgorithm[];
  const corsOrigins = get('corsOrigins');
  if (corsOrigins !== undefined) options.corsOrigins = list(corsOrigins);
  const demo = get('demo');
  if (demo !== undefined) options.demo = ['1', 'true', 'yes', 'on'].includes(demo.toLowerCase());
  return {
    options,
    help: values.help === true,
    version: values.version === true,
    nameOf: (option) => {
      const known = Object.hasOwn(settings, option)
        ? (settings[option as SettingName] as Setting)
        : undefined;
      return sources.get(option) ?? (known ? `--${known.flag}` : option);
    },
  };
}

/** A database URL without its password, if it has one. */
function printableDatabase(database: string): string {
  if (!isPostgresUrl(database)) return database;
  try {
    const url = new URL(database);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return 'postgres://… (unparsable URL)';
  }
}

/**
 * The configuration in force as printable lines. Holds no secret: keysets are summarised (they
 * are public keys anyway), and the server's own signing key lives in the database, never here.
 */
export function describeConfig(options: ResolvedServerOptions, issuer: string): string[] {
  const keyset = options.jwksUrl
    ? `JWKS URL ${options.jwksUrl}`
    : options.jwksFile
      ? `JWKS file ${options.jwksFile}`
      : options.jwks
        ? `inline JWKS (${options.jwks.keys.length} key(s))`
        : 'demo identity provider';
  const limit = (n: number) => (n === 0 ? 'off' : `${n}/min`);
  return [
    `mode:                   ${options.demo ? 'demo (demo identity provider on)' : 'normal'}`,
    `database:               ${printableDatabase(options.database)}`,
    `data folder:            ${options.dataDir}`,
    `identity issuer:        ${issuer}`,
    `identity keys:          ${keyset}`,
    `audience:               ${options.audience === undefined ? '(unchecked)' : [options.audience].flat().join(', ')}`,
    `algorithms:             ${options.algorithms.join(', ')}`,
    `clock tolerance:        ${options.clockToleranceSeconds} s`,
    `access token lifetime:  ${options.accessTokenLifetimeSeconds} s`,
    `agent reply delay:      ${options.agentReplyDelayMs} ms`,
    `body limit:             ${options.bodyLimitBytes} bytes`,
    `message text limit:     ${options.messageTextLimit} characters`,
    `exchange rate limits:   ${limit(options.exchangesPerAddressPerMinute)} per address, ${limit(options.exchangesPerSubjectPerMinute)} per subject (per instance)`,
    `streams per token:      ${options.streamsPerAccessToken} (per instance)`,
    `CORS origins:           ${options.corsOrigins.length === 0 ? '(off)' : options.corsOrigins.join(', ')}`,
    `static files:           ${options.staticDir}/ at /, ${options.bundlesDir}/ at /bundles/`,
  ];
}
