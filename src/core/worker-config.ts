import type { JSONWebKeySet } from 'jose';
import type { IdentityTokenAlgorithm } from './inspect-identity-token.ts';

/**
 * What the shared worker needs to know. It travels in the worker script's URL (`?config=`), so
 * it is part of the worker's identity: a page with another configuration gets another worker.
 * It holds no secret: issuer, public keys or their URL, the server's URL, timings.
 *
 * @example
 * ```ts
 * const tw = await createTabwarden({
 *   worker: {
 *     issuer: 'https://idp.example.com',
 *     jwksUrl: 'https://idp.example.com/.well-known/jwks.json',
 *     serverUrl: 'https://chat.example.com',
 *   },
 * });
 * ```
 */
export interface WorkerConfig {
  issuer: string;
  jwksUrl?: string;
  jwks?: JSONWebKeySet;
  audience?: string;
  algorithms?: IdentityTokenAlgorithm[];
  /** The reference server's base URL. */
  serverUrl: string;
  /** R6 grace window. Default 30 s (`DEFAULT_GRACE_MS`, core/grace-window.ts). */
  graceMs?: number;
  clockToleranceSeconds?: number;
}

/** URL-safe encoding of a {@link WorkerConfig}. */
export function encodeWorkerConfig(config: WorkerConfig): string {
  return encodeURIComponent(JSON.stringify(config));
}

/** Decodes and checks a configuration; throws TypeError naming the first bad field. */
export function decodeWorkerConfig(encoded: string | null): WorkerConfig {
  if (!encoded) throw new TypeError('The worker URL carries no config');
  const value: unknown = JSON.parse(decodeURIComponent(encoded));
  if (typeof value !== 'object' || value === null) throw new TypeError('config must be an object');
  const config = value as Record<string, unknown>;
  const need = (field: string, ok: boolean) => {
    if (!ok) throw new TypeError(`config.${field} is invalid`);
  };
  need('issuer', typeof config.issuer === 'string' && config.issuer !== '');
  need('serverUrl', typeof config.serverUrl === 'string' && config.serverUrl !== '');
  need('jwksUrl or jwks', typeof config.jwksUrl === 'string' || typeof config.jwks === 'object');
  need('audience', config.audience === undefined || typeof config.audience === 'string');
  need('graceMs', config.graceMs === undefined || (typeof config.graceMs === 'number' && config.graceMs > 0));
  need(
    'algorithms',
    config.algorithms === undefined ||
      (Array.isArray(config.algorithms) && config.algorithms.every((a) => a === 'RS256' || a === 'RS512')),
  );
  return config as unknown as WorkerConfig;
}
