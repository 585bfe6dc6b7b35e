// The reference server for the throughput metric, in its own process so the load generator
// and the server each get a core. Rate limits off, in-memory database, its own identity
// provider. Prints one JSON line (URL, issuer, JWKS, tokens to send), then serves until SIGTERM.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../src/server/index.ts';
import { createTestIdentityProvider } from '../src/testing/index.ts';

const TOKENS = 64;

const idp = await createTestIdentityProvider({ issuer: 'https://idp.bench.test' });
const dataDir = mkdtempSync(join(tmpdir(), 'tabwarden-bench-'));
const server = await startServer({
  issuer: idp.issuer,
  jwks: idp.jwks,
  dataDir,
  database: ':memory:',
  exchangesPerAddressPerMinute: 0,
  exchangesPerSubjectPerMinute: 0,
  staticDir: join(dataDir, 'none'),
  bundlesDir: join(dataDir, 'none'),
  port: 0,
  host: '127.0.0.1',
});
// Distinct subjects, as real clients would send.
const tokens = await Promise.all(
  Array.from({ length: TOKENS }, (_, i) => idp.mint({ sub: `user-${i}`, expiresInSeconds: 3600 })),
);
process.stdout.write(`${JSON.stringify({ url: server.url, issuer: idp.issuer, jwks: idp.jwks, tokens })}\n`);

process.once('SIGTERM', () => {
  void server.close().finally(() => {
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(0);
  });
});
