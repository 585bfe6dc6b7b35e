// The reference server's CLI: `npm run server` (or `npm start` for demo mode). Options come from
// flags and TABWARDEN_* environment variables; see `--help` and docs/server.md.
import { createRequire } from 'node:module';
import { describeConfig, parseConfig, usage } from './config.ts';
import { startServer } from './index.ts';
import { resolveServerOptions } from './options.ts';

/** The package's version, from its package.json (two folders up, from src/ and from dist/). */
function version(): string {
  try {
    return (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseConfig(process.argv.slice(2), process.env);
    if (!parsed.help && !parsed.version) resolveServerOptions(parsed.options, { nameOf: parsed.nameOf });
  } catch (error) {
    console.error(`tabwarden server: ${(error as Error).message}\nRun with --help for every option.`);
    process.exitCode = 2;
    return;
  }
  if (parsed.help) {
    console.log(usage());
    return;
  }
  if (parsed.version) {
    console.log(version());
    return;
  }
  // The server redacts its lines itself; the terminal gets them with a time.
  const log = (line: string) => console.log(`${new Date().toISOString()} ${line}`);
  const server = await startServer({ ...parsed.options, log });
  console.log('tabwarden reference server');
  for (const line of describeConfig(server.options, server.issuer)) console.log(`  ${line}`);
  if (server.demoIdentityProvider) {
    console.log(`  demo token endpoint:    POST ${server.url}/demo/idp/token {"sub":"alice"}`);
  }
  console.log(`listening on ${server.url}`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: shutting down (in-flight requests finish, streams end)`);
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(
    `tabwarden server failed to start: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exit(1);
});
