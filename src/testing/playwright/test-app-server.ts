import {
  startTestServer,
  type StartTestServerOptions,
  type TestServer,
} from '../browser/start-test-server.ts';
import type { ShiftedClock } from '../../core/shifted-clock.ts';
import {
  openFrontDoor,
  type ArrivedRequest,
  type FrontDoor,
  type HeldRoute,
  type Route,
} from '../front-door.ts';
import type { ServedIdentityProvider } from '../identity-provider-server.ts';

/**
 * The `server` fixture: the reference server (in-memory database) serving your app and
 * tabwarden's bundles, behind a front door that counts requests by route as they arrive and can
 * slow, fail, cut or hold a route. Routes are written as in docs/server.md: `'POST /v1/authorization'`,
 * `'POST /v1/conversations/:id/messages'`, a path alone for any method, `'*'` for all.
 */
export class TestAppServer {
  /** The reference server itself (its options, its own request log). */
  readonly reference: TestServer;
  readonly #door: FrontDoor;

  /** @internal Made by the `server` fixture. */
  constructor(reference: TestServer, door: FrontDoor) {
    this.reference = reference;
    this.#door = door;
  }

  /** Where the browser reaches it: `http://127.0.0.1:<port>`. */
  get url(): string {
    return this.#door.url;
  }

  /** @internal */
  get door(): FrontDoor {
    return this.#door;
  }

  /**
   * How many requests of `route` have arrived so far, faulted or not, answered or still in
   * flight — including those a service worker or SharedWorker made.
   *
   * @example
   * ```ts
   * expect(server.count('POST /v1/authorization')).toBe(1); // five tabs, one exchange
   * ```
   */
  count(route: Route): number {
    return this.#door.count(route);
  }

  /** Every request so far, in the order they arrived. */
  requests(): ArrivedRequest[] {
    return this.#door.requests();
  }

  /** Holds every request of `route` for `delayMs` before passing it on. */
  slow(route: Route, delayMs: number): void {
    this.#door.setFault(route, { kind: 'slow', delayMs });
  }

  /** Answers every request of `route` with `status` and a JSON `{ code, message }` body. */
  fail(route: Route, status: number, code = 'ERR_TEST_FAULT'): void {
    this.#door.setFault(route, { kind: 'fail', status, code });
  }

  /** Drops the connection of every request of `route`: the browser sees a network error. */
  cut(route: Route): void {
    this.#door.setFault(route, { kind: 'cut' });
  }

  /**
   * Holds every request of `route` at the door until `release()`: a request on the wire while
   * the test makes something else happen (the worker stops, the tab closes). A request whose
   * sender died meanwhile still reaches the server on release, as one already sent would. Never
   * released, the route hangs.
   *
   * @example
   * ```ts
   * const exchange = server.hold('POST /v1/authorization');
   * const starting = tabs.call(tab, 'startConversation');
   * await exchange.arrived();
   * await worker.stop(); // the exchange is on the wire
   * exchange.release();
   * await expect(starting).resolves.toMatchObject({ conversationId: expect.any(String) });
   * ```
   */
  hold(route: Route): HeldRoute {
    return this.#door.hold(route);
  }

  /** Removes the fault of `route`, or every fault (requests already held wait for their release). */
  heal(route?: Route): void {
    this.#door.heal(route);
  }
}

/** @internal Starts the reference server for one test, trusting `identityProvider`, on `clock`. */
export async function startTestAppServer(options: {
  identityProvider: ServedIdentityProvider;
  clock: ShiftedClock;
  serverOptions: StartTestServerOptions;
}): Promise<{ server: TestAppServer; close: () => Promise<void> }> {
  const { identityProvider, clock, serverOptions } = options;
  const reference = await startTestServer({
    issuer: identityProvider.issuer,
    jwksUrl: identityProvider.jwksUrl,
    audience: identityProvider.audience,
    clock,
    ...serverOptions,
  });
  let door: FrontDoor;
  try {
    door = await openFrontDoor(reference.url);
  } catch (error) {
    await reference.close();
    throw error;
  }
  return {
    server: new TestAppServer(reference, door),
    close: async () => {
      await door.close();
      await reference.close();
    },
  };
}
