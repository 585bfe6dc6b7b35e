// The reference server's CLI: `npm run server` (or `npm start` for demo mode). Options come from
// flags and TABWARDEN_* environment variables; see `--help` and docs/server.md.
import { describeConfig, parseConfig, usage } from './config.ts';
import { startServer } from './index.ts';

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseConfig(process.argv.slice(2), process.env);
  } catch (error) {
    console.error(`tabwarden server: ${(error as Error).message}\n\n${usage()}`);
    process.exitCode = 2;
    return;
  }
  if (parsed.help) {
    console.log(usage());
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
