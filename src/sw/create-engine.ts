import { createAuthorizationClient } from '../core/authorization-client.ts';
import { systemClock } from '../core/clock.ts';
import { TabwardenError } from '../core/errors.ts';
import { createConversationClient } from '../core/conversation-client.ts';
import { instanceLockName } from '../core/host-instance-lock.ts';
import { SessionEngine, type SessionEngineOptions } from '../core/session-engine.ts';
import { openSessionStore } from '../core/store.ts';
import { TabChannelHost } from '../core/tab-channel-host.ts';
import { createIdentityTokenVerifier } from '../core/verify-identity-token.ts';
import type { WorkerConfig } from '../core/worker-config.ts';
import { openTestClock } from './test-clock.ts';

// True only in the test build of the bundles (scripts/build-bundles.ts --test-clock); false
// everywhere else, so that the minifier drops the test clock from the shipped bundles.
declare const __TABWARDEN_TEST_CLOCK__: boolean;

/**
 * Builds the session engine a worker hosts from its {@link WorkerConfig}. Relative URLs in the
 * config resolve against the worker's own location; `host` adds what only this host can do.
 */
export async function createEngine(
  config: WorkerConfig,
  baseUrl: string,
  host: Pick<SessionEngineOptions, 'requestBackgroundDelivery'> = {},
  unavailable: (why: TabwardenError | undefined) => void = () => {},
): Promise<SessionEngine> {
  const http = { baseUrl: new URL(config.serverUrl, baseUrl).href };
  const clock = __TABWARDEN_TEST_CLOCK__ ? await openTestClock() : systemClock;
  const verifier = createIdentityTokenVerifier({
    clock,
    issuer: config.issuer,
    ...(config.jwks ? { jwks: config.jwks } : { jwksUrl: new URL(config.jwksUrl ?? '', baseUrl).href }),
    ...(config.audience === undefined ? {} : { audience: config.audience }),
    ...(config.algorithms ? { algorithms: config.algorithms } : {}),
    ...(config.clockToleranceSeconds === undefined
      ? {}
      : { clockToleranceSeconds: config.clockToleranceSeconds }),
  });
  // The store opens in the browser process meanwhile; a (re)started worker verifies every tab's
  // token next (R10): have the keys ready by then.
  // Deleted while the engine restores, the database is simply found empty.
  let onDeleted = () => {};
  // An upgrade blocked by an old tab waits for it to close; meanwhile every call says why.
  const store = openSessionStore('tabwarden', {
    onDeleted: () => onDeleted(),
    onBlocked: (blocked) =>
      unavailable(
        blocked
          ? new TabwardenError(
              'ERR_STORAGE',
              'Storage upgrade blocked: another tab holds the previous version open; close or reload it',
            )
          : undefined,
      ),
  });
  void verifier.prefetchKeys();
  const engine = await SessionEngine.create({
    verifier,
    authorization: createAuthorizationClient(http),
    conversations: createConversationClient(http),
    store: await store,
    clock,
    ...host,
    ...(config.graceMs === undefined ? {} : { graceMs: config.graceMs }),
  });
  onDeleted = () => void engine.storageDeleted();
  return engine;
}

/**
 * The tab-channel host of a worker (or leader tab), serving the engine built from `config`,
 * once it holds the Web Lock of its instance: a tab it welcomed waits for that lock and learns
 * of this instance's end the moment the browser releases it (R10). `hostOptions` as for
 * {@link createEngine}.
 */
export async function startHost(
  config: WorkerConfig,
  baseUrl: string,
  hostOptions: Pick<SessionEngineOptions, 'requestBackgroundDelivery'> = {},
): Promise<TabChannelHost> {
  const host = new TabChannelHost(
    (unavailable) => createEngine(config, baseUrl, hostOptions, unavailable),
    crypto.randomUUID(),
  );
  // No Web Locks outside a secure context: tabs there learn of a death by their calls' limits.
  if (!(navigator.locks as LockManager | undefined)) return host;
  await new Promise<void>((held) => {
    // Held for the life of this instance.
    void navigator.locks.request(instanceLockName(host.instanceId), () => {
      held();
      return new Promise<never>(() => {});
    });
  });
  return host;
}
