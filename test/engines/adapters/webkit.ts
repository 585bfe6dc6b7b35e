// WebKitGTK (the engine family of Safari) through selenium-webdriver and Debian's WebKitWebDriver,
// driving MiniBrowser on a virtual display of its own. WebDriver has one current window per
// session, so every tab operation switches to its window under a lock; a call left running in a
// page (`window.app.start`) is how scenarios overlap calls of several tabs.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { Builder, Capabilities, type WebDriver } from 'selenium-webdriver';
import type { EngineDriver, InPage, Tab, TabGroup } from '../driver.ts';
import { startVirtualDisplay } from '../xvfb.ts';

/** Where Debian's `webkit2gtk-driver` installs the driver and its browser. */
export const WEBKIT_WEBDRIVER_PATH = '/usr/bin/WebKitWebDriver';
export const MINIBROWSER_PATH = '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitForDriver(url: string, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  for (;;) {
    try {
      if ((await fetch(`${url}/status`)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() - started > timeoutMs) throw new Error(`WebKitWebDriver did not answer at ${url}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Waits until the current window holds a new, fully loaded document (`timeOrigin` other than
 * `previous`): WebKitWebDriver's get and refresh can return while the page's module scripts
 * have not run yet (measured: window.app undefined right after them).
 */
async function loaded(driver: WebDriver, previous?: number, timeoutMs = 15_000): Promise<void> {
  const started = Date.now();
  for (;;) {
    const [state, origin, href] = await driver.executeScript<[string, number, string]>(
      'return [document.readyState, performance.timeOrigin, location.href]',
    );
    if (state === 'complete' && origin !== previous && href !== 'about:blank') return;
    if (Date.now() - started > timeoutMs) throw new Error(`WebKit: ${href} did not finish loading`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Runs operations one at a time (the session's current window is shared by all of them). */
class Lock {
  #tail: Promise<unknown> = Promise.resolve();
  run<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(operation);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

// Runs the function's source with its argument and reports back as JSON, so `undefined` stays
// absent rather than turning into WebDriver's null, and a page error comes back as a message.
// `__name` is the helper tsx/esbuild (keepNames) calls in compiled functions; the page has none.
const ASYNC_RUNNER = `
const [source, arg, done] = arguments;
Promise.resolve()
  .then(() => new Function('__name', 'return (' + source + ')')((f) => f)(arg))
  .then(
    (value) => done(JSON.stringify({ ok: true, value })),
    (error) => done(JSON.stringify({ ok: false, message: String(error) + ' @ ' + (error && error.stack) })),
  );`;

class WebDriverTab implements Tab {
  constructor(
    readonly driver: WebDriver,
    readonly lock: Lock,
    readonly handle: string,
    /** The session's first window, never closed: WebDriver needs an open current window. */
    readonly anchor: string,
  ) {}
  #inWindow<T>(operation: () => Promise<T>): Promise<T> {
    return this.lock.run(async () => {
      await this.driver.switchTo().window(this.handle);
      return operation();
    });
  }
  async evaluate<A, R>(fn: InPage<A, R>, arg: A): Promise<R> {
    const answer = await this.#inWindow(() =>
      this.driver.executeAsyncScript<string>(ASYNC_RUNNER, fn.toString(), arg),
    );
    const outcome = JSON.parse(answer) as { ok: true; value: R } | { ok: false; message: string };
    if (!outcome.ok) throw new Error(`in the page: ${outcome.message}`);
    return outcome.value;
  }
  reload(): Promise<void> {
    return this.#inWindow(async () => {
      const before = await this.driver.executeScript<number>('return performance.timeOrigin');
      await this.driver.navigate().refresh();
      await loaded(this.driver, before);
    });
  }
  close(): Promise<void> {
    return this.#inWindow(async () => {
      await this.driver.close();
      await this.driver.switchTo().window(this.anchor);
    });
  }
}

class WebDriverTabGroup implements TabGroup {
  readonly #tabs = new Set<WebDriverTab>();
  constructor(
    readonly driver: WebDriver,
    readonly lock: Lock,
    readonly anchor: string,
    /** Windows of earlier groups, blank: opening a WebDriver window costs seconds in MiniBrowser. */
    readonly pool: string[],
  ) {}
  open(url: string): Promise<Tab> {
    return this.lock.run(async () => {
      const reused = this.pool.pop();
      if (reused) await this.driver.switchTo().window(reused);
      else await this.driver.switchTo().newWindow('tab');
      const tab = new WebDriverTab(this.driver, this.lock, await this.driver.getWindowHandle(), this.anchor);
      await this.driver.get(url);
      await loaded(this.driver);
      this.#tabs.add(tab);
      return tab;
    });
  }

  /** Unloads every tab this group opened (about:blank) and hands its window back to the pool. */
  async close(): Promise<void> {
    await this.lock.run(async () => {
      const open = new Set(await this.driver.getAllWindowHandles());
      for (const tab of this.#tabs) {
        if (!open.has(tab.handle)) continue;
        await this.driver.switchTo().window(tab.handle);
        await this.driver.get('about:blank');
        this.pool.push(tab.handle);
      }
      await this.driver.switchTo().window(this.anchor);
    });
    this.#tabs.clear();
  }
}

/**
 * Starts a virtual display, WebKitWebDriver on a free port of 127.0.0.1, and a MiniBrowser
 * session in automation mode.
 */
export async function launchWebKitDriver(): Promise<EngineDriver> {
  for (const binary of [WEBKIT_WEBDRIVER_PATH, MINIBROWSER_PATH]) {
    if (!existsSync(binary)) throw new Error(`${binary} is missing: apt-get install webkit2gtk-driver`);
  }
  const display = await startVirtualDisplay();
  const port = await freePort();
  const service = spawn(WEBKIT_WEBDRIVER_PATH, [`--port=${port}`, '--host=127.0.0.1'], {
    env: { ...process.env, DISPLAY: display.display },
    stdio: 'ignore',
  });
  const stop = () => {
    service.kill();
    display.stop();
  };
  // A runner that exits without quitting (a bench metric over its time limit) leaves no driver
  // or display behind.
  process.once('exit', stop);
  try {
    const url = `http://127.0.0.1:${port}`;
    await waitForDriver(url);
    const driver = await new Builder()
      .usingServer(url)
      .withCapabilities(
        new Capabilities({
          browserName: 'MiniBrowser',
          'webkitgtk:browserOptions': { binary: MINIBROWSER_PATH, args: ['--automation'] },
        }),
      )
      .build();
    await driver.manage().setTimeouts({ script: 60_000, pageLoad: 30_000 });
    const capabilities = await driver.getCapabilities();
    const lock = new Lock();
    const anchor = await driver.getWindowHandle();
    const pool: string[] = [];
    return {
      engine: 'webkit',
      drivenBy: 'selenium-webdriver over WebDriver (WebKitWebDriver, MiniBrowser under Xvfb)',
      version: `WebKitGTK ${String(capabilities.get('browserVersion'))}`,
      tabs: async () => new WebDriverTabGroup(driver, lock, anchor, pool),
      async quit() {
        try {
          await driver.quit();
        } finally {
          stop();
        }
      },
    };
  } catch (error) {
    stop();
    throw error;
  }
}
