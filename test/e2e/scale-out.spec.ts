// R15 scale-out through the browser, once per transport: two reference-server processes on one
// throwaway Postgres, the browser's requests spread over both by a round-robin proxy (its origin
// is the app's), so one session exchanges on one instance, streams from one and posts through
// either. The instance holding the stream is killed mid-stream: the stream resumes through the
// other from the last entry it had, and every tab shows every entry once.
import { test as base, expect, type Page, type TestInfo } from '@playwright/test';
import { fileURLToPath } from 'node:url';
import type { ConversationEntry } from '../../src/core/protocol.ts';
import type { Tabwarden } from '../../src/page/tabwarden.ts';
import { startIdentityProvider, type ServedIdentityProvider } from '../../src/testing/index.ts';
import {
  createDatabase,
  dropDatabase,
  startPostgresCluster,
  type PostgresCluster,
} from '../server/postgres-cluster.ts';
import { openFrontDoor, type FrontDoor } from '../../src/testing/front-door.ts';
import { startServerProcess, type ServerProcess } from '../server/server-process.ts';
import { appDir, type TabwardenTestOptions } from './harness.ts';

const bundlesDir = fileURLToPath(new URL('../../dist/bundles/', import.meta.url));

interface ScaleOut {
  identityProvider: ServedIdentityProvider;
  instances: ServerProcess[];
  proxy: FrontDoor;
}

async function scaleOutFixture(
  { postgres }: { postgres: PostgresCluster },
  use: (scaleOut: ScaleOut) => Promise<void>,
  testInfo: TestInfo,
): Promise<void> {
  const name = `e2e_${testInfo.workerIndex}_${Date.now()}`;
  const database = await createDatabase(postgres.url, name);
  const identityProvider = await startIdentityProvider();
  const env = {
    TABWARDEN_DATABASE: database,
    TABWARDEN_ISSUER: identityProvider.issuer,
    TABWARDEN_JWKS_URL: identityProvider.jwksUrl,
    TABWARDEN_AUDIENCE: identityProvider.audience,
    TABWARDEN_STATIC_DIR: appDir,
    TABWARDEN_BUNDLES_DIR: bundlesDir,
    TABWARDEN_AGENT_DELAY_MS: '0',
  };
  // One after the other: the first runs the migrations.
  const first = await startServerProcess(env);
  const instances = [first, await startServerProcess(env)];
  const proxy = await openFrontDoor(instances.map((instance) => instance.url));
  await use({ identityProvider, instances, proxy });
  await proxy.close();
  await Promise.all(instances.map((instance) => instance.stop().catch(() => instance.kill())));
  await identityProvider.close();
  await dropDatabase(postgres.url, name);
}

const test = base.extend<
  Pick<TabwardenTestOptions, 'transport'> & { scaleOut: ScaleOut },
  { postgres: PostgresCluster }
>({
  transport: ['service-worker', { option: true }],
  // One cluster per Playwright worker: initdb takes seconds; each test gets its own database.
  postgres: [
    // eslint-disable-next-line no-empty-pattern
    async ({}, use) => {
      const cluster = await startPostgresCluster();
      await use(cluster);
      await cluster.stop();
    },
    // initdb and a first start take seconds on a loaded machine: not the test's own time.
    { scope: 'worker', timeout: 60_000 },
  ],
  // Two server processes booting on a loaded machine take seconds: not the test's own time.
  scaleOut: [scaleOutFixture, { timeout: 60_000 }],
});

/** Opens the fixture app through the proxy and waits until its client is ready (R1). */
async function openTab(page: Page, { proxy, identityProvider }: ScaleOut, transport: string): Promise<void> {
  const query = new URLSearchParams({
    transport,
    issuer: identityProvider.issuer,
    jwksUrl: identityProvider.jwksUrl,
    audience: identityProvider.audience,
  });
  await page.goto(`${proxy.url}/seed.html?${query}`);
  await page.waitForFunction(() => (window.app.tw as Tabwarden | undefined)?.ready === true, undefined, {
    timeout: 10_000,
  });
  // Every entry the tab is shown, in the order it is shown.
  await page.evaluate(() => {
    const shown: ConversationEntry[] = [];
    Object.assign(window, { shown });
    (window.app.tw as Tabwarden).addEventListener('entries', (event) => shown.push(...event.detail.entries));
  });
}

function shownIn(page: Page): Promise<ConversationEntry[]> {
  return page.evaluate(() => (window as unknown as { shown: ConversationEntry[] }).shown);
}

test('R15: two instances on one Postgres serve one browser session; the stream survives the death of its instance, nothing lost or shown twice', async ({
  context,
  transport,
  scaleOut,
}) => {
  const tabs = [await context.newPage(), await context.newPage()];
  for (const tab of tabs) await openTab(tab, scaleOut, transport);
  const token = await scaleOut.identityProvider.mint('alice');
  for (const tab of tabs) await tab.evaluate((t) => (window.app.tw as Tabwarden).setIdentityToken(t), token);
  const [first, second] = tabs as [Page, Page];
  await first.evaluate(() => (window.app.tw as Tabwarden).startConversation());
  for (const tab of tabs) await tab.evaluate(() => void (window.app.tw as Tabwarden).watchEntries(0));

  const send = (tab: Page, text: string) =>
    tab.evaluate((t) => (window.app.tw as Tabwarden).sendMessage(t), text);
  const userTexts = async (tab: Page) =>
    (await shownIn(tab)).filter((entry) => entry.role === 'user').map((entry) => entry.text);
  await send(first, 'one');
  await send(second, 'two');
  for (const tab of tabs) await expect.poll(() => userTexts(tab)).toEqual(['one', 'two']);

  // Both instances took part: the exchange, the stream and the posts went round-robin.
  // The requests an instance answered, in the order they arrived.
  const served = () => scaleOut.proxy.requests().filter((request) => request.backend !== undefined);
  expect(new Set(served().map((request) => request.backend)).size).toBe(2);
  const streams = served().filter((request) => request.path.endsWith('/events'));
  expect(streams.length).toBeGreaterThanOrEqual(1);

  // The instance holding the (last) stream dies without a goodbye, while posts go on.
  const holder = scaleOut.instances.find((instance) => instance.url === streams.at(-1)!.backend)!;
  await holder.kill();
  await send(second, 'three');
  await send(first, 'four');

  for (const tab of tabs) {
    await expect.poll(() => userTexts(tab), { timeout: 15_000 }).toEqual(['one', 'two', 'three', 'four']);
    // Nothing shown twice, nothing skipped: the seqs are 1..n once each, in order.
    const seqs = (await shownIn(tab)).map((entry) => entry.seq);
    expect(seqs).toEqual(seqs.map((_, index) => index + 1));
  }
  // The stream came back through the instance still alive.
  const survivor = scaleOut.instances.find((instance) => instance !== holder)!;
  expect(
    served()
      .filter((request) => request.path.endsWith('/events'))
      .at(-1)?.backend,
  ).toBe(survivor.url);
});
