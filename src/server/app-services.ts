import type { IdentityTokenVerifier } from '../core/verify-identity-token.ts';
import type { AccessTokenClaims, AccessTokens } from './access-tokens.ts';
import type { DemoAgent } from './demo-agent.ts';
import type { DemoIdentityProvider } from './demo-identity-provider.ts';
import type { ServerLog } from './log.ts';
import type { ResolvedServerOptions } from './options.ts';
import type { RateLimiter } from './rate-limit.ts';
import type { EntryStreams } from './sse.ts';
import type { ServerStore } from './store.ts';

/** Everything the routes use, built once by `createTabwardenHandler`. */
export interface AppServices {
  options: ResolvedServerOptions;
  store: ServerStore;
  verifier: IdentityTokenVerifier;
  accessTokens: AccessTokens;
  streams: EntryStreams;
  agent: DemoAgent;
  exchangesPerAddress: RateLimiter;
  exchangesPerSubject: RateLimiter;
  demoIdentityProvider: DemoIdentityProvider | undefined;
  log: ServerLog;
  /** True once shutdown began: new requests are turned away, in-flight ones finish. */
  isClosing(): boolean;
  /** Serve the demo portal and the bundles (the standalone server does; a mounted handler not). */
  serveFiles: boolean;
}

/**
 * The Hono environment the app and every sub-app share: `auth` holds the caller's checked
 * authorization token on the conversation routes.
 */
export type AppEnv = { Variables: { auth: AccessTokenClaims } };
