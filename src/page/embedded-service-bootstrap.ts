import { TabwardenError } from '../core/errors.ts';
import { precheckIdentityToken, type IdentityTokenAlgorithm } from '../core/inspect-identity-token.ts';
import { createTabwarden, type TabwardenOptions } from './create-tabwarden.ts';
import type { Tabwarden } from './tabwarden.ts';
import type { TabwardenEventMap } from './tabwarden-events.ts';

/** The seed's global, `window.embeddedservice_bootstrap`, as tabwarden provides it. */
export interface EmbeddedServiceBootstrap {
  /** Connects to the shared worker; `onEmbeddedMessagingReady` follows on `window`. */
  init(settings: TabwardenOptions): Promise<void>;
  userVerificationAPI: {
    /**
     * `true` means "accepted for verification"; `false` for a wrong type, a malformed or
     * over-size token, an `exp` already past, or before ready (R1, R2). The worker's verdict
     * follows as `onEmbeddedMessagingIdentityTokenRejected` when it refuses.
     */
    setIdentityToken(request: { identityTokenType: string; identityToken: string }): boolean;
    /** Clears the session in every tab (R7); rejects ERR_NOT_READY before ready. */
    clearSession(shouldEndSession?: boolean): Promise<void>;
  };
  /** The module API behind the facade, once `init` resolved. */
  tabwarden?: Tabwarden;
}

// tabwarden's events, as the seed's window events (and two of tabwarden's own).
const windowEvents: { [K in keyof TabwardenEventMap]?: string } = {
  ready: 'onEmbeddedMessagingReady',
  'identity-token-expired': 'onEmbeddedMessagingIdentityTokenExpired',
  'identity-token-rejected': 'onEmbeddedMessagingIdentityTokenRejected',
  'session-started': 'onEmbeddedMessagingConversationStarted',
  'session-cleared': 'tabwarden:session-cleared',
  'identity-token-refreshed': 'tabwarden:identity-token-refreshed',
};

/**
 * Builds the seed-compatible facade on `target` (normally `window`).
 *
 * @example
 * ```ts
 * window.embeddedservice_bootstrap = createEmbeddedServiceBootstrap(window);
 * addEventListener('onEmbeddedMessagingReady', () =>
 *   embeddedservice_bootstrap.userVerificationAPI.setIdentityToken({ identityTokenType: 'JWT', identityToken }),
 * );
 * await embeddedservice_bootstrap.init({ worker: { issuer, jwksUrl, serverUrl } });
 * ```
 */
export function createEmbeddedServiceBootstrap(target: Window): EmbeddedServiceBootstrap {
  let algorithms: readonly IdentityTokenAlgorithm[] | undefined;
  const bootstrap: EmbeddedServiceBootstrap = {
    async init(settings) {
      if (bootstrap.tabwarden) return;
      const tabwarden = await createTabwarden(settings);
      for (const [from, to] of Object.entries(windowEvents)) {
        tabwarden.addEventListener(from, (event) => {
          const detail = (event as CustomEvent<Record<string, unknown>>).detail;
          const forWindow = from === 'session-started' ? { conversationId: detail.conversationId } : detail;
          target.dispatchEvent(new CustomEvent(to, { detail: forWindow }));
        });
      }
      bootstrap.tabwarden = tabwarden;
      algorithms = settings.worker.algorithms;
    },
    userVerificationAPI: {
      setIdentityToken(request) {
        const tabwarden = bootstrap.tabwarden;
        if (!tabwarden?.ready) return false;
        // The worker's algorithms, so the precheck refuses nothing the worker would accept.
        const check = precheckIdentityToken(request, Date.now(), algorithms ? { algorithms } : {});
        if (!check.ok) {
          const { code, message } = check.error;
          target.dispatchEvent(
            new CustomEvent('onEmbeddedMessagingIdentityTokenRejected', { detail: { code, message } }),
          );
          return false;
        }
        // The worker's refusal arrives as onEmbeddedMessagingIdentityTokenRejected.
        tabwarden.setIdentityToken(check.token).catch(() => undefined);
        return true;
      },
      async clearSession(shouldEndSession = false) {
        const tabwarden = bootstrap.tabwarden;
        if (!tabwarden?.ready) throw new TabwardenError('ERR_NOT_READY', 'Wait for onEmbeddedMessagingReady');
        await tabwarden.clearSession(shouldEndSession);
      },
    },
  };
  return bootstrap;
}
