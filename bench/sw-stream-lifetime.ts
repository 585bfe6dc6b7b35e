// How long headless Chromium lets a service worker hold a fetch stream (the measurement behind
// README's "Where the live stream lives"). A plain HTTP server serves a page, a service worker
// that opens `/events` with fetch and reads it, and the event stream itself; it notes when each
// stream opens and when its socket closes (a stopped worker's fetch dies with it). Four cases
// run side by side, each in a Chromium process of its own (own profile, own worker), started
// without DevTools: an attached DevTools client (Playwright attaches to service workers) keeps
// a worker from ever being stopped for idleness, which would hide what is measured here.
//
//   idle-tab      a controlled tab stays open and says nothing
//   chatty-tab    the tab posts the worker a message every 10 s (what a heartbeat costs)
//   wait-until    the stream is read inside the message event's waitUntil
//   no-tab        the tab that started the stream navigates away: no page of the origin is left
//
//   npx tsx bench/sw-stream-lifetime.ts [seconds, default 100]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM_ARGS, chromiumPath } from '../src/testing/index.ts';

const observeSeconds = Number(process.argv[2] ?? 100);
const CASES = ['idle-tab', 'chatty-tab', 'wait-until', 'no-tab'] as const;
type Case = (typeof CASES)[number];

const PAGE = `<!doctype html><script>
  const name = new URLSearchParams(location.search).get('case');
  navigator.serviceWorker.register('/sw.js');
  navigator.serviceWorker.ready.then(async () => {
    if (!navigator.serviceWorker.controller)
      await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
    navigator.serviceWorker.controller.postMessage({ open: name });
    if (name === 'chatty-tab') setInterval(() => navigator.serviceWorker.controller?.postMessage({ ping: 1 }), 10000);
    if (name === 'no-tab') setTimeout(() => location.replace('about:blank'), 1000);
  });
</script>`;

const WORKER = `
  self.addEventListener('install', () => self.skipWaiting());
  self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));
  async function read(name) {
    const response = await fetch('/events?case=' + name);
    const reader = response.body.getReader();
    for (;;) if ((await reader.read()).done) return;
  }
  self.addEventListener('message', (e) => {
    if (!e.data.open) return;
    const reading = read(e.data.open);
    if (e.data.open === 'wait-until') e.waitUntil(reading);
  });
`;

const startedAt = Date.now();
const opened = new Map<Case, number>();
const closed = new Map<Case, number>();
const seconds = (at: number | undefined) => (at === undefined ? undefined : (at - startedAt) / 1000);

const server = createServer((request, response) => {
  const url = new URL(request.url ?? '/', 'http://x');
  if (url.pathname === '/page.html') return void response.end(PAGE);
  if (url.pathname === '/sw.js') {
    response.setHeader('content-type', 'text/javascript');
    return void response.end(WORKER);
  }
  if (url.pathname === '/events') return void stream(url.searchParams.get('case') as Case, response);
  response.statusCode = 404;
  response.end();
});

function stream(name: Case, response: ServerResponse): void {
  opened.set(name, Date.now());
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
  const beat = setInterval(() => response.write(': keep-alive\n\n'), 5_000);
  response.write(': open\n\n');
  response.on('close', () => {
    clearInterval(beat);
    closed.set(name, Date.now());
  });
}

await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const profiles = CASES.map(() => mkdtempSync(join(tmpdir(), 'tabwarden-sw-lifetime-')));
const browsers = CASES.map((name, i) =>
  spawn(
    chromiumPath(),
    [...CHROMIUM_ARGS, '--headless', `--user-data-dir=${profiles[i]}`, `${origin}/page.html?case=${name}`],
    { stdio: 'ignore' },
  ),
);
try {
  console.error(`observing ${observeSeconds} s`);
  await new Promise((resolve) => setTimeout(resolve, observeSeconds * 1000));
  const rows = CASES.map((name) => {
    const open = seconds(opened.get(name));
    const close = seconds(closed.get(name));
    const held = open === undefined ? undefined : (close ?? observeSeconds) - open;
    return {
      case: name,
      streamOpenedAtS: open,
      streamClosedAtS: close ?? `still open at ${observeSeconds} s`,
      heldS: held === undefined ? undefined : Math.round(held * 10) / 10,
    };
  });
  console.table(rows);
  console.log(JSON.stringify({ observeSeconds, rows }));
} finally {
  for (const browser of browsers) browser.kill();
  server.close();
  for (const profile of profiles) rmSync(profile, { recursive: true, force: true });
}
