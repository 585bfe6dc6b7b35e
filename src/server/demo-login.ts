import { randomBytes } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { Clock } from '../core/clock.ts';
import { ApiError, badRequest } from './api-error.ts';
import { DEMO_MAX_LIFETIME_SECONDS, type DemoIdentityProvider } from './demo-identity-provider.ts';

/** The demo portal's own login cookie: a random session id, never a token. */
export const DEMO_SESSION_COOKIE = 'tabwarden_demo_session';
/** How long a demo login lasts without use, in seconds (8 hours). */
export const DEMO_SESSION_MAX_AGE_SECONDS = 8 * 3600;
// A bound on memory, whatever a visitor scripts: the oldest sign-ins go first.
const MAX_SESSIONS = 10_000;
const DEFAULT_IDENTITY_TOKEN_LIFETIME_SECONDS = 300;

/** One signed-in demo user, held on the server only. */
interface DemoLogin {
  sub: string;
  identityTokenLifetimeSeconds: number;
  /** Milliseconds; renewed on every use. */
  expiresAt: number;
}

/** What the routes need from the app. */
export interface DemoLoginOptions {
  identityProvider: DemoIdentityProvider;
  clock: Clock;
  /** The app's JSON body reader (content type, parse, object checks). */
  readJsonObject(c: Context): Promise<Record<string, unknown>>;
}

/**
 * The demo app's own login, standing in for a real app's (demo mode only). Signing in sets an
 * HttpOnly, SameSite=Strict cookie holding a random session id; the server maps it to the user.
 * Every tab of the browser shares the cookie, so each fetches a fresh identity token for that
 * user by itself (tabwarden's `identityTokenProvider`, R3) — the identity token is minted per
 * request and never stored, in the cookie or anywhere else.
 *
 * Routes, relative to where the app mounts them (`/demo/session`):
 * - `POST /` `{ sub, identityTokenLifetimeSeconds? }`: signs in (a new session id every time).
 * - `POST /identity-token`: `{ identityToken, expiresAt }` for the signed-in user; 401
 *   `ERR_NO_SESSION` without a live session.
 * - `DELETE /`: signs out (idempotent) and clears the cookie.
 *
 * @example
 * ```ts
 * app.route('/demo/session', createDemoLogin({ identityProvider, clock, readJsonObject }));
 * // In the page:
 * await createTabwarden({
 *   worker,
 *   identityTokenProvider: async () => {
 *     const response = await fetch('/demo/session/identity-token', { method: 'POST' });
 *     return (await response.json()).identityToken;
 *   },
 * });
 * ```
 */
export function createDemoLogin(options: DemoLoginOptions): Hono {
  const { identityProvider, clock, readJsonObject } = options;
  const logins = new Map<string, DemoLogin>();
  const routes = new Hono();

  /** The live login of this request's cookie, its lifetime renewed; undefined without one. */
  function currentLogin(c: Context): { id: string; login: DemoLogin } | undefined {
    const id = getCookie(c, DEMO_SESSION_COOKIE);
    const login = id === undefined ? undefined : logins.get(id);
    if (!id || !login) return undefined;
    if (login.expiresAt <= clock.now()) {
      logins.delete(id);
      return undefined;
    }
    login.expiresAt = clock.now() + DEMO_SESSION_MAX_AGE_SECONDS * 1000;
    return { id, login };
  }

  routes.use('*', async (c, next) => {
    await next();
    c.res.headers.set('cache-control', 'no-store');
  });

  routes.post('/', async (c) => {
    const body = await readJsonObject(c);
    const { sub, identityTokenLifetimeSeconds = DEFAULT_IDENTITY_TOKEN_LIFETIME_SECONDS } = body;
    if (typeof sub !== 'string' || sub.trim() === '' || sub.length > 256) {
      throw badRequest('sub must be a non-empty string of at most 256 characters');
    }
    if (
      typeof identityTokenLifetimeSeconds !== 'number' ||
      !Number.isInteger(identityTokenLifetimeSeconds) ||
      Math.abs(identityTokenLifetimeSeconds) > DEMO_MAX_LIFETIME_SECONDS
    ) {
      throw badRequest(
        `identityTokenLifetimeSeconds must be a whole number within ±${DEMO_MAX_LIFETIME_SECONDS}`,
      );
    }
    // A sign-in always gets a new id (no session fixation); the previous one ends.
    const previous = getCookie(c, DEMO_SESSION_COOKIE);
    if (previous !== undefined) logins.delete(previous);
    if (logins.size >= MAX_SESSIONS) logins.delete(logins.keys().next().value!);
    const id = randomBytes(32).toString('base64url');
    logins.set(id, {
      sub,
      identityTokenLifetimeSeconds,
      expiresAt: clock.now() + DEMO_SESSION_MAX_AGE_SECONDS * 1000,
    });
    setCookie(c, DEMO_SESSION_COOKIE, id, {
      httpOnly: true,
      sameSite: 'Strict',
      secure: new URL(c.req.url).protocol === 'https:',
      path: '/demo/session',
      maxAge: DEMO_SESSION_MAX_AGE_SECONDS,
    });
    return c.json({ sub });
  });

  routes.post('/identity-token', async (c) => {
    const current = currentLogin(c);
    if (!current) throw new ApiError(401, 'ERR_NO_SESSION', 'Not signed in to the demo app');
    const { sub, identityTokenLifetimeSeconds } = current.login;
    const minted = await identityProvider.mint({ sub, expiresInSeconds: identityTokenLifetimeSeconds });
    return c.json(minted);
  });

  routes.delete('/', (c) => {
    const id = getCookie(c, DEMO_SESSION_COOKIE);
    if (id !== undefined) logins.delete(id);
    deleteCookie(c, DEMO_SESSION_COOKIE, { path: '/demo/session' });
    return c.json({ signedOut: true });
  });

  return routes;
}
