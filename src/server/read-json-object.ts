import type { Context } from 'hono';
import { isRecord } from '../core/validate-message.ts';
import { badRequest } from './api-error.ts';

/**
 * Reads a JSON object body, with the checks every JSON route shares: a JSON content type, valid
 * JSON, an object. Anything else is a 400 `ERR_INVALID_ARGUMENT`.
 *
 * @example
 * ```ts
 * app.post('/demo/settings', async (c) => {
 *   const { accessTokenLifetimeSeconds } = await readJsonObject(c);
 *   // …
 * });
 * ```
 */
export async function readJsonObject(c: Context): Promise<Record<string, unknown>> {
  const type = (c.req.header('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') throw badRequest('The body must be JSON (Content-Type: application/json)');
  let value: unknown;
  try {
    value = JSON.parse(await c.req.text());
  } catch {
    throw badRequest('The body is not valid JSON');
  }
  if (!isRecord(value)) throw badRequest('The body must be a JSON object');
  return value;
}
