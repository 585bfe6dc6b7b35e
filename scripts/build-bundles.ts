// Builds every browser bundle (see vite.config.ts), then checks the page-side ones: jose must
// never reach a page bundle or any chunk it loads (identity tokens are verified in the worker),
// and prints sizes. The page stub's fallback transports are chunks of their own
// (`tabwarden-*-link-<hash>.js`, loaded with import() only where no service worker controls
// the page); they are listed under their entry.
//
// `--test-clock` builds the same bundles into dist/test-bundles with the test kit's worker clock
// (src/sw/test-clock.ts) switched on, for tabwarden/testing/playwright's `clock`; the shipped
// dist/bundles never contain it.
import { existsSync, rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { build, createLogger, type Rolldown } from 'vite';
import { bundleEntries, type BundleName } from '../vite.config.ts';

// Gzip budgets (bytes) each emitted file must stay within, as workbox enforces one: a bundle that
// grows past its budget fails the build, so the growth is a decision, not an accident. Set a
// little above today's sizes (README, Transports). The page stub's was the 8 KiB target; it lost
// the entry stream to the worker (issue 10: -505 B), so it is held to 7.5 KiB now.
const GZIP_BUDGETS: Record<BundleName, number> = {
  page: 7.5 * 1024,
  // 10 KiB until the page learnt of a stopped worker by itself (issue #9's prober: +585 B).
  snippet: 10.5 * 1024,
  // The chat panel learnt the outbox: waiting and refused messages, Retry, Discard (R12: +0.5 KB).
  ui: 8 * 1024,
  // The workers gained the one live entry stream the pages had (issue 10: +1.3 KiB each), then
  // the outbox and its delivery loop (R12: +1.9 KB gzip each), then a host that answers while an
  // upgrade is blocked, and retries (issue 9: about +0.45 KB each), then the session rules as a
  // pure reducer whose events and effects are data (issue 14: +1.9 KB each, 19,995 -> 21,891 B),
  // then the live stream's relay as a class of its own (issue 14: about +170 B each) and, in the
  // service worker, the tabs' acks on their event ports (issue 10: +45 B).
  sw: 22 * 1024,
  sharedWorker: 21.5 * 1024,
  inPageHost: 21.25 * 1024,
};
// Each chunk the page stub loads with import() (a fallback link, workbox-window).
const LAZY_CHUNK_GZIP_BUDGET = 2 * 1024;
const overBudget: string[] = [];

// Any warning of Vite or Rolldown fails the build: one printed and ignored (Rolldown's
// `[INVALID_OPTION] Invalid value "iife"`, twice per build for months) hides the next one.
const warnings: string[] = [];
const logger = createLogger('warn');
for (const method of ['warn', 'warnOnce'] as const) {
  const print = logger[method];
  logger[method] = (message, options) => {
    warnings.push(`${process.env.TABWARDEN_ENTRY}: ${message.trim()}`);
    print(message, options);
  };
}

const testClock = process.argv.includes('--test-clock');
if (testClock) process.env.TABWARDEN_TEST_CLOCK = '1';
rmSync(testClock ? 'dist/test-bundles' : 'dist/bundles', { recursive: true, force: true });
const report = [];
for (const [name, bundle] of Object.entries(bundleEntries)) {
  if (!existsSync(bundle.entry)) continue;
  process.env.TABWARDEN_ENTRY = name;
  const output = await build({ logLevel: 'warn', customLogger: logger });
  const chunks = (Array.isArray(output) ? output : [output])
    .flatMap((result) => (result as Rolldown.RolldownOutput).output)
    .filter((file): file is Rolldown.OutputChunk => file.type === 'chunk')
    // The entry first, then its chunks.
    .sort((a, b) => Number(b.isEntry) - Number(a.isEntry));
  const entryImports = new Set(chunks.find((chunk) => chunk.isEntry)?.imports);
  for (const chunk of chunks) {
    const code = Buffer.from(chunk.code);
    report.push({
      bundle: chunk.isEntry ? chunk.fileName : `  └ ${chunk.fileName}`,
      side: bundle.side,
      loads: chunk.isEntry
        ? 'entry'
        : chunk.isDynamicEntry
          ? 'import()'
          : entryImports.has(chunk.fileName)
            ? 'with entry'
            : 'with import()',
      bytes: code.length,
      gzip: gzipSync(code).length,
    });
    const budget = chunk.isEntry ? GZIP_BUDGETS[name as BundleName] : LAZY_CHUNK_GZIP_BUDGET;
    const gzip = report[report.length - 1]!.gzip;
    // The test build (the clock hook) ships to nobody: only the shipped bundles have budgets.
    if (!testClock && gzip > budget)
      overBudget.push(`${chunk.fileName}: ${gzip} B gzip, over its budget of ${budget} B`);
    if (bundle.side === 'page' && /JWSSignatureVerificationFailed|ERR_JWS_|ERR_JWKS_/.test(chunk.code)) {
      console.error(
        `${chunk.fileName}: jose is in a page bundle; identity tokens are verified in the worker.`,
      );
      process.exit(1);
    }
  }
}
console.table(report);
if (warnings.length > 0) {
  console.error(
    `The bundle build warned (scripts/build-bundles.ts fails on any warning):\n  ${warnings.join('\n  ')}`,
  );
  process.exit(1);
}
if (overBudget.length > 0) {
  console.error(`Over the size budget (scripts/build-bundles.ts):\n  ${overBudget.join('\n  ')}`);
  process.exit(1);
}
