// Builds every browser bundle (see vite.config.ts), then checks the page-side ones: jose must
// never reach a page bundle (identity tokens are verified in the worker), and prints sizes.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { build } from 'vite';
import { bundleEntries } from '../vite.config.ts';

rmSync('dist/bundles', { recursive: true, force: true });
const report = [];
for (const [name, bundle] of Object.entries(bundleEntries)) {
  if (!existsSync(bundle.entry)) continue;
  process.env.TABWARDEN_ENTRY = name;
  await build({ logLevel: 'warn' });
  const code = readFileSync(`dist/bundles/${bundle.fileName}`);
  report.push({
    bundle: bundle.fileName,
    side: bundle.side,
    bytes: code.length,
    gzip: gzipSync(code).length,
  });
  if (bundle.side === 'page' && /JWSSignatureVerificationFailed|ERR_JWS_|ERR_JWKS_/.test(code.toString())) {
    console.error(
      `${bundle.fileName}: jose is in a page bundle; identity tokens are verified in the worker.`,
    );
    process.exit(1);
  }
}
console.table(report);
