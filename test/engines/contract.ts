// Registers the contract scenarios (scenarios.ts) as vitest tests for one engine: one test per
// scenario and transport, each with a reference server of its own (so its own origin) and a fresh
// group of tabs, over one browser launched for the file. What does not apply is not registered
// (nothing is skipped) but recorded with its reason; every outcome goes to
// test-results/engines/<engine>.json (ignored by git). `npm run compat-table` copies a run into
// test/engines/results/ and the README table; `compat-table --check` fails when a run differs.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { ShiftedClock } from '../../src/core/shifted-clock.ts';
import { startTestServer } from '../../src/testing/index.ts';
import { EngineApp } from './app.ts';
import type { EngineDriver, EngineName } from './driver.ts';
import { startNetworkCut } from './network-cut.ts';
import { SCENARIOS, TRANSPORTS } from './scenarios.ts';

/** One cell of the compatibility table. */
export interface ContractResult {
  /** The scenario's place in scenarios.ts (the table's row order). */
  index: number;
  rule: string;
  title: string;
  transport: string;
  outcome: 'pass' | 'fail' | 'not applicable';
  /** Why not applicable, or the first line of the failure. */
  note?: string;
  durationMs?: number;
}

/** What a run of one engine wrote. */
export interface EngineRun {
  engine: EngineName;
  version: string;
  drivenBy: string;
  finishedAt: string;
  results: ContractResult[];
}

// The fixture app of the Chromium suite, served the same way.
const appDir = fileURLToPath(new URL('../e2e/fixtures/app/', import.meta.url));

// The worker bundles built with the test clock (npm run build:test-bundles), for scenarios that
// move time (`clock: true`) instead of waiting for it.
const testBundlesDir = fileURLToPath(new URL('../../dist/test-bundles/', import.meta.url));

// A scenario that has not ended by then has hung (vitest's own limit is 60 s).
const SCENARIO_LIMIT_MS = 50_000;

/** Where each run writes `<engine>.json`: outside the committed tree, so a run leaves git clean. */
const RUN_RESULTS_DIR = new URL('../../test-results/engines/', import.meta.url);

/**
 * This run's results, plus the last run's for cells this run did not reach (a run filtered with
 * `-t`), so a partial run never blanks the table. Cells of scenarios that no longer exist go.
 */
function mergeWithLastRun(engine: EngineName, results: ContractResult[]): ContractResult[] {
  const file = new URL(`${engine}.json`, RUN_RESULTS_DIR);
  const last = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as EngineRun).results : [];
  const key = (result: ContractResult) => `${result.title}\u0000${result.transport}`;
  const ran = new Set(results.map(key));
  const titles = new Set(SCENARIOS.map((scenario) => scenario.title));
  const kept = last
    .filter((result) => !ran.has(key(result)) && titles.has(result.title))
    .map((result) => ({
      ...result,
      index: SCENARIOS.findIndex((scenario) => scenario.title === result.title),
    }));
  return [...results, ...kept].sort((a, b) => a.index - b.index || a.transport.localeCompare(b.transport));
}

/** Registers the contract for one engine; `launch` starts its browser. */
export function defineContract(engine: EngineName, launch: () => Promise<EngineDriver>): void {
  let driver: EngineDriver;
  const results: ContractResult[] = [];

  beforeAll(async () => {
    driver = await launch();
  }, 60_000);
  afterAll(async () => {
    const run: EngineRun = {
      engine,
      version: driver?.version ?? 'not launched',
      drivenBy: driver?.drivenBy ?? '',
      finishedAt: new Date().toISOString(),
      results: mergeWithLastRun(engine, results),
    };
    mkdirSync(RUN_RESULTS_DIR, { recursive: true });
    writeFileSync(new URL(`${engine}.json`, RUN_RESULTS_DIR), `${JSON.stringify(run, null, 2)}\n`);
    await driver?.quit();
  }, 30_000);

  for (const transport of TRANSPORTS) {
    describe(`${engine} · ${transport}`, () => {
      for (const [index, scenario] of SCENARIOS.entries()) {
        const applies = scenario.applies?.(engine, transport) ?? true;
        if (applies !== true || !scenario.run) {
          results.push({
            index,
            rule: scenario.rule,
            title: scenario.title,
            transport,
            outcome: 'not applicable',
            note: String(applies),
          });
          continue;
        }
        const run = scenario.run;
        test(scenario.title, async () => {
          const started = Date.now();
          const { cleanup, ...serverOptions } = scenario.server?.() ?? {};
          const clock = scenario.clock ? new ShiftedClock() : undefined;
          const server = await startTestServer({
            staticDir: appDir,
            ...(clock ? { clock, bundlesDir: testBundlesDir } : {}),
            ...serverOptions,
          });
          const link = scenario.networkCut ? await startNetworkCut(server.url) : undefined;
          const group = await driver.tabs();
          try {
            const app = new EngineApp(group, server, transport, link?.url ?? server.url, clock);
            // Bounded here, below vitest's own limit, so a hang is recorded as a failure too.
            let timer: ReturnType<typeof setTimeout> | undefined;
            const limit = new Promise<never>((_, reject) => {
              timer = setTimeout(
                () => reject(new Error(`no end within ${SCENARIO_LIMIT_MS} ms`)),
                SCENARIO_LIMIT_MS,
              );
            });
            await Promise.race([run({ engine, transport, driver, app, link, serverOptions }), limit]).finally(
              () => clearTimeout(timer),
            );
            results.push({
              index,
              rule: scenario.rule,
              title: scenario.title,
              transport,
              outcome: 'pass',
              durationMs: Date.now() - started,
            });
          } catch (error) {
            const note = (error instanceof Error ? error.message : String(error)).split('\n')[0];
            results.push({
              index,
              rule: scenario.rule,
              title: scenario.title,
              transport,
              outcome: 'fail',
              note,
            });
            throw error;
          } finally {
            await group.close().catch(() => undefined);
            await link?.close();
            await server.close();
            cleanup?.();
          }
        });
      }
    });
  }
}
