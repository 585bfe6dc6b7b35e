import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { JSONWebKeySet } from 'jose';
import type { Clock } from '../core/clock.ts';
import { createTestIdentityProvider, type TestIdentityProvider } from './test-identity-provider.ts';

/**
 * The tokens a served identity provider mints on purpose wrong, by name:
 *
 * - `expired`: `exp` a minute ago; `not-yet-valid`: `nbf` ten minutes ahead;
 * - `foreign-key`: right issuer and `kid`, signed by a key that is not in the JWKS;
 * - `wrong-issuer`, `wrong-audience`: those claims of someone else;
 * - `rs512`: signed with RS512, which a worker accepts only when configured to;
 * - `rotated-key`: signed by a new key the provider rotated to just now, which a worker that
 *   fetched the JWKS before has never seen. Not bad at all: the worker must refetch the JWKS
 *   and accept it (R2). From then on `mint()` signs with the new key too.
 */
export type BadTokenKind =
  'expired' | 'not-yet-valid' | 'foreign-key' | 'wrong-issuer' | 'wrong-audience' | 'rs512' | 'rotated-key';

/** Every {@link BadTokenKind}, for tests that try them all. */
export const BAD_TOKEN_KINDS: readonly BadTokenKind[] = Object.freeze([
  'expired',
  'not-yet-valid',
  'foreign-key',
  'wrong-issuer',
  'wrong-audience',
  'rs512',
  'rotated-key',
]);

/** Who a minted token is for, and anything else it should say. */
export interface MintUserOptions {
  /** Default `'test-user'`. */
  sub?: string;
  /** Lifetime in seconds from the provider's now. Default 600. */
  expiresInSeconds?: number;
  /** Extra or overriding claims; one set to `undefined` is left out. */
  claims?: Record<string, unknown>;
}

/** An identity provider on 127.0.0.1: its JWKS at a URL, good tokens and bad ones by name. */
export interface ServedIdentityProvider {
  /** The `iss` of its tokens. */
  issuer: string;
  /** The `aud` of its tokens. */
  audience: string;
  /** `http://127.0.0.1:<port>/jwks.json`, served with CORS open to any origin. */
  jwksUrl: string;
  /** The keys served now. */
  readonly jwks: JSONWebKeySet;
  /** How many times the JWKS has been fetched (a worker that refetched on an unknown `kid`...). */
  readonly jwksFetches: number;
  /** Mints a valid token, for `sub` or with these options. */
  mint(user?: string | MintUserOptions): Promise<string>;
  /** Mints a token that is wrong in the way `kind` names (see {@link BadTokenKind}). */
  mintBad(kind: BadTokenKind, user?: string | MintUserOptions): Promise<string>;
  /** Starts signing with a new key (new `kid`), published beside the old one. */
  rotateKey(): Promise<void>;
  /** Stops serving. Idempotent. */
  close(): Promise<void>;
}

/** Options of {@link startIdentityProvider}. */
export interface StartIdentityProviderOptions {
  /** Default `'https://idp.tabwarden.test'`. */
  issuer?: string;
  /** Default `'tabwarden-test-app'`. */
  audience?: string;
  /** The provider's "now" (the test kit passes its time machine). Default the system clock. */
  clock?: Pick<Clock, 'now'>;
}

/**
 * Starts a test identity provider on a free port of 127.0.0.1, serving its JWKS. Configure the
 * worker and the reference server with its `issuer`, `jwksUrl` and `audience`.
 *
 * @example
 * ```ts
 * const idp = await startIdentityProvider();
 * const server = await startTestServer({ issuer: idp.issuer, jwksUrl: idp.jwksUrl, audience: idp.audience });
 * const good = await idp.mint('alice');
 * const bad = await idp.mintBad('foreign-key', 'alice'); // ERR_TOKEN_SIGNATURE
 * ```
 */
export async function startIdentityProvider(
  options: StartIdentityProviderOptions = {},
): Promise<ServedIdentityProvider> {
  const issuer = options.issuer ?? 'https://idp.tabwarden.test';
  const audience = options.audience ?? 'tabwarden-test-app';
  const clock = options.clock ?? { now: () => Date.now() };
  let generation = 1;
  let current = await createTestIdentityProvider({ issuer, kid: `test-key-${generation}` });
  const published = [...current.jwks.keys];
  let fetches = 0;

  const sockets = new Set<Socket>();
  const server = createServer((request, response) => {
    const headers = { 'access-control-allow-origin': '*', 'cache-control': 'no-store' };
    if (request.method === 'GET' && request.url?.split('?')[0] === '/jwks.json') {
      fetches += 1;
      response.writeHead(200, { ...headers, 'content-type': 'application/json' });
      response.end(JSON.stringify({ keys: published }));
      return;
    }
    response.writeHead(request.method === 'OPTIONS' ? 204 : 404, headers);
    response.end();
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  const optionsOf = (user: string | MintUserOptions = {}): MintUserOptions =>
    typeof user === 'string' ? { sub: user } : user;
  const mintWith = (
    signer: TestIdentityProvider,
    user: MintUserOptions,
    claims: Record<string, unknown> = {},
  ) =>
    signer.mint({
      sub: user.sub ?? 'test-user',
      expiresInSeconds: user.expiresInSeconds ?? 600,
      now: clock.now(),
      claims: { aud: audience, ...user.claims, ...claims },
    });
  const rotateKey = async () => {
    generation += 1;
    current = await createTestIdentityProvider({ issuer, kid: `test-key-${generation}` });
    published.push(...current.jwks.keys);
  };
  let closing: Promise<void> | undefined;

  return {
    issuer,
    audience,
    jwksUrl: `http://127.0.0.1:${port}/jwks.json`,
    get jwks() {
      return { keys: [...published] };
    },
    get jwksFetches() {
      return fetches;
    },
    mint: (user) => mintWith(current, optionsOf(user)),
    async mintBad(kind, user) {
      const options = optionsOf(user);
      const nowSeconds = Math.floor(clock.now() / 1000);
      switch (kind) {
        case 'expired':
          return mintWith(current, { ...options, expiresInSeconds: -60 });
        case 'not-yet-valid':
          return mintWith(current, options, { nbf: nowSeconds + 600 });
        case 'foreign-key':
          return mintWith(await createTestIdentityProvider({ issuer, kid: current.kid }), options);
        case 'wrong-issuer':
          return mintWith(current, options, { iss: `${issuer}/someone-else` });
        case 'wrong-audience':
          return mintWith(current, options, { aud: `${audience}-someone-else` });
        case 'rs512':
          return mintWith(
            await createTestIdentityProvider({ issuer, kid: current.kid, algorithm: 'RS512' }),
            options,
          );
        case 'rotated-key':
          await rotateKey();
          return mintWith(current, options);
        default:
          throw new TypeError(`mintBad: unknown kind ${String(kind)} (known: ${BAD_TOKEN_KINDS.join(', ')})`);
      }
    },
    rotateKey,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}
