import { TabwardenError } from '../core/errors.ts';

/** Which script failed, in the words of the error message. */
export type WorkerScriptKind = 'service worker' | 'SharedWorker' | 'in-page host';

/**
 * Why a worker script did not start, as an `ERR_WORKER_UNAVAILABLE` that names its URL and what
 * the server answered: fetched once more, since the browser's registration and worker errors
 * carry no status. `undefined` when the script itself is fine (200, JavaScript, and for a service
 * worker, allowed its `scope`): then the browser refused for a reason of its own.
 *
 * @example
 * ```ts
 * const error = await workerUnavailable('service worker', '/bundles/tabwarden-sw.js', cause, '/');
 * // ERR_WORKER_UNAVAILABLE: The service worker script http://localhost/bundles/tabwarden-sw.js answered HTTP 404 …
 * ```
 */
export async function workerUnavailable(
  kind: WorkerScriptKind,
  url: string,
  cause: unknown,
  scope?: string,
): Promise<TabwardenError | undefined> {
  const absolute = new URL(url, location.href);
  // The query holds the worker's configuration: long, and no help in finding the file.
  const shown = `${absolute.origin}${absolute.pathname}`;
  const unavailable = (why: string) =>
    new TabwardenError('ERR_WORKER_UNAVAILABLE', `The ${kind} script ${shown} ${why}`, { cause });
  let response: Response;
  try {
    response = await fetch(absolute, { cache: 'no-store', credentials: 'same-origin' });
  } catch {
    return unavailable('could not be fetched (network error)');
  }
  void response.body?.cancel();
  if (!response.ok) {
    return unavailable(
      `answered HTTP ${response.status}: serve tabwarden's worker files there (docs/installing.md)`,
    );
  }
  const type = response.headers.get('content-type') ?? '';
  if (!/javascript|ecmascript/i.test(type)) {
    return unavailable(`answered HTTP ${response.status} with ${type || 'no content type'}, not JavaScript`);
  }
  if (scope !== undefined) {
    const allowed = new URL(response.headers.get('service-worker-allowed') ?? './', absolute).pathname;
    const wanted = new URL(scope, location.href).pathname;
    if (!wanted.startsWith(allowed)) {
      return unavailable(
        `answered HTTP ${response.status} without Service-Worker-Allowed: ${wanted}, so it cannot control ${wanted}`,
      );
    }
  }
  return undefined;
}
