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
import { build, type Rolldown } from 'vite';
import { bundleEntries } from '../vite.config.ts';

const testClock = process.argv.includes('--test-clock');
if (testClock) process.env.TABWARDEN_TEST_CLOCK = '1';
rmSync(testClock ? 'dist/test-bundles' : 'dist/bundles', { recursive: true, force: true });
const report = [];
for (const [name, bundle] of Object.entries(bundleEntries)) {
  if (!existsSync(bundle.entry)) continue;
  process.env.TABWARDEN_ENTRY = name;
  const output = await build({ logLevel: 'warn' });
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
    if (bundle.side === 'page' && /JWSSignatureVerificationFailed|ERR_JWS_|ERR_JWKS_/.test(chunk.code)) {
      console.error(
        `${chunk.fileName}: jose is in a page bundle; identity tokens are verified in the worker.`,
      );
      process.exit(1);
    }
  }
}
console.table(report);
