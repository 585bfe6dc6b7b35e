import type { BrowserContext, Page } from '@playwright/test';
import type { TabState } from '../../core/protocol.ts';
import type { Tabwarden } from '../../page/tabwarden.ts';
import type { ServedIdentityProvider } from '../identity-provider-server.ts';

/** The page client's methods {@link Tabs.call} can call, typed as the client types them. */
export type ClientMethod =
  | 'setIdentityToken'
  | 'startConversation'
  | 'sendMessage'
  | 'listEntries'
  | 'listOutbox'
  | 'retryMessage'
  | 'discardMessage'
  | 'clearSession';

/** `count` tabs as a tuple when `count` is a literal (`const [a, b] = await tabs.open(2)`). */
export type TabsOf<N extends number, Acc extends Page[] = []> = number extends N
  ? Page[]
  : Acc['length'] extends N
    ? Acc
    : TabsOf<N, [...Acc, Page]>;

/** Where the fixtures find things in your app. */
export interface AppEnvironment {
  /** The reference server (behind the test's front door) that serves your app and bundles. */
  serverUrl: string;
  /** The test identity provider your app's worker must trust. */
  identityProvider: Pick<ServedIdentityProvider, 'issuer' | 'jwksUrl' | 'audience'>;
}

/** Options of {@link Tabs.open}. */
export interface OpenOptions {
  /** Present a fresh token for this user in every new tab, and wait until each is verified. */
  as?: string;
  /** Open this URL instead of the app's. */
  url?: string;
  /**
   * Open them all at once, as a browser restoring a session does (R1's start-up races), then
   * wait for each. Default: one after another, each ready before the next opens.
   */
  together?: boolean;
  /**
   * `false`: do not wait for the client to be ready (a page that creates it later, on a click).
   * Default `true`. Cannot be combined with `as`.
   */
  waitForReady?: boolean;
}

/** A call of the page client that failed: its error's stable `code` and `message`, unchanged. */
export class TabCallError extends Error {
  readonly code: string;
  constructor(method: string, code: string, message: string) {
    super(`${method} failed: ${code} ${message}`);
    this.name = 'TabCallError';
    this.code = code;
  }
}

type Outcome = { ok: true; value: unknown } | { ok: false; code: string; message: string };

/**
 * The tabs of one test: N pages of one browser context (one browser profile), each your app with
 * its tabwarden client ready, optionally verified as a user already.
 */
export class Tabs {
  readonly #context: BrowserContext;
  readonly #env: AppEnvironment;
  readonly #appUrl: (env: AppEnvironment) => string;
  readonly #client: string;
  readonly #opened: (tab: Page) => Promise<void>;
  readonly #identityProvider: ServedIdentityProvider;
  readonly #all: Page[] = [];

  /** @internal Made by the `tabs` fixture. */
  constructor(options: {
    context: BrowserContext;
    identityProvider: ServedIdentityProvider;
    serverUrl: string;
    appUrl: (env: AppEnvironment) => string;
    client: () => unknown;
    opened: (tab: Page) => Promise<void>;
  }) {
    this.#context = options.context;
    this.#identityProvider = options.identityProvider;
    this.#env = { serverUrl: options.serverUrl, identityProvider: options.identityProvider };
    this.#appUrl = options.appUrl;
    this.#client = options.client.toString();
    this.#opened = options.opened;
  }

  /** The tabs opened so far that are still open, oldest first. */
  get all(): Page[] {
    return this.#all.filter((tab) => !tab.isClosed());
  }

  /** The app's URL for this test. */
  get url(): string {
    return this.#appUrl(this.#env);
  }

  /**
   * Opens `count` tabs of the app one after another, each ready (R1) before the next opens;
   * with `as`, each then presents a fresh token for that user and is verified.
   *
   * @example
   * ```ts
   * const [first, second] = await tabs.open(2, { as: 'alice' });
   * ```
   */
  async open<N extends number = 1>(count: N = 1 as N, options: OpenOptions = {}): Promise<TabsOf<N>> {
    const wait = options.waitForReady ?? true;
    if (!wait && options.as !== undefined) {
      throw new Error('tabs.open: `as` needs the tabs ready; leave `waitForReady` as it is');
    }
    const load = async (): Promise<Page> => {
      const tab = await this.#context.newPage();
      this.#all.push(tab);
      await tab.goto(options.url ?? this.url);
      return tab;
    };
    const ready = async (tab: Page): Promise<void> => {
      if (wait) {
        await tab.waitForFunction(`(${this.#client})()?.ready === true`, undefined, { timeout: 10_000 });
      }
      await this.#opened(tab);
    };
    const opened: Page[] = [];
    if (options.together) {
      opened.push(...(await Promise.all(Array.from({ length: count }, load))));
      for (const tab of opened) await ready(tab);
    } else {
      for (let i = 0; i < count; i++) {
        const tab = await load();
        await ready(tab);
        opened.push(tab);
      }
    }
    if (options.as !== undefined) {
      const token = await this.#identityProvider.mint(options.as);
      for (const tab of opened) await this.signIn(tab, token);
    }
    return opened as TabsOf<N>;
  }

  /**
   * Presents an identity token in `tab` (in memory, as your app's login would) and resolves with
   * the verified claims; a user name mints a fresh token for that user first. Rejects with a
   * {@link TabCallError} carrying the worker's code when the token is refused.
   */
  async signIn(tab: Page, userOrToken: string): ReturnType<Tabwarden['setIdentityToken']> {
    const token = /^[\w-]+\.[\w-]+\.[\w-]*$/.test(userOrToken)
      ? userOrToken
      : await this.#identityProvider.mint(userOrToken);
    return this.call(tab, 'setIdentityToken', token);
  }

  /**
   * Calls `method` of the tab's tabwarden client and resolves with its value, or rejects with a
   * {@link TabCallError} whose `code` is the client's. Not awaiting it leaves the call running
   * (a send that waits in a grace window).
   *
   * @example
   * ```ts
   * const sending = tabs.call(tab, 'sendMessage', 'hello'); // waits for a token
   * await expect(sending).rejects.toMatchObject({ code: 'ERR_SESSION_CLEARED' });
   * ```
   */
  call<M extends ClientMethod>(
    tab: Page,
    method: M,
    ...args: Parameters<Tabwarden[M]>
  ): Promise<Awaited<ReturnType<Tabwarden[M]>>> {
    const called = (async (): Promise<Awaited<ReturnType<Tabwarden[M]>>> => {
      const outcome = (await tab.evaluate(`(async () => {
        try {
          const client = (${this.#client})();
          return { ok: true, value: await client[${JSON.stringify(method)}](...${JSON.stringify(args)}) };
        } catch (error) {
          return { ok: false, code: error?.code ?? 'UNCODED', message: String(error?.message ?? error) };
        }
      })()`)) as Outcome;
      if (!outcome.ok) throw new TabCallError(method, outcome.code, outcome.message);
      return outcome.value as Awaited<ReturnType<Tabwarden[M]>>;
    })();
    // A call left running (a send waiting in a grace window) may fail before the test looks at
    // it; that is no unhandled rejection: whoever awaits it still gets the error.
    called.catch(() => {});
    return called;
  }

  /** The tab's view of the session (`client.state`) and its transport. */
  state(tab: Page): Promise<TabState & { transport: string }> {
    return tab.evaluate(`(() => {
      const client = (${this.#client})();
      return { ...client.state, transport: client.transport };
    })()`);
  }
}
