// Page stub size: tabwarden's page entries and the peers' entries, each bundled in this run by
// the same Vite (Rolldown) library build with vite.config.ts's settings — ES module (the snippet
// as the IIFE it ships as) — then gzipped (zlib default level, as scripts/build-bundles.ts
// reports). Every chunk a build emits counts.
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type ConfigEnv, type Rolldown, type UserConfig } from 'vite';
import { formatRatio, verdict, type MetricResult, type Row } from '../lib/row.ts';
import viteConfig, { bundleEntries } from '../../vite.config.ts';

const root = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const TARGET_BYTES = 8 * 1024;

// tabwarden's page-side entries in the format each ships in (the snippet is a script-tag IIFE).
const OURS = [
  { name: 'page stub', bundle: bundleEntries.page },
  { name: 'script-tag snippet', bundle: bundleEntries.snippet },
  { name: 'UI', bundle: bundleEntries.ui },
].map(({ name, bundle }) => ({
  name: `${name} (${bundle.fileName})`,
  entry: bundle.entry,
  format: bundle.format,
}));
const PEERS = [
  { name: 'oidc-client-ts', entry: 'bench/fixtures/size/oidc-client-ts.js', format: 'es' as const },
  { name: '@auth0/auth0-spa-js', entry: 'bench/fixtures/size/auth0-spa-js.js', format: 'es' as const },
  { name: '@okta/okta-auth-js', entry: 'bench/fixtures/size/okta-auth-js.js', format: 'es' as const },
];

interface Size {
  name: string;
  version?: string;
  minified: number;
  gzip: number;
}

// The settings vite.config.ts builds tabwarden's bundles with (minify, target, …): peers get
// exactly these, so a change there moves every figure alike.
const shipped = (viteConfig as (env: ConfigEnv) => UserConfig)({ command: 'build', mode: 'production' });

const shippedLib = shipped.build?.lib || {};

async function bundleSize(name: string, entry: string, format: 'es' | 'iife', external: string[] = []) {
  const output = await build({
    ...shipped,
    configFile: false,
    logLevel: 'silent',
    build: {
      ...shipped.build,
      write: false,
      lib: { ...shippedLib, entry: root(entry), formats: [format], fileName: () => 'bundle.js' },
      rollupOptions: { ...shipped.build?.rollupOptions, external },
    },
  });
  const chunks = (Array.isArray(output) ? output : [output])
    .flatMap((result) => (result as Rolldown.RolldownOutput).output)
    .filter((file): file is Rolldown.OutputChunk => file.type === 'chunk');
  const size: Size = {
    name,
    minified: chunks.reduce((sum, chunk) => sum + Buffer.byteLength(chunk.code), 0),
    gzip: chunks.reduce((sum, chunk) => sum + gzipSync(chunk.code).length, 0),
  };
  return size;
}

async function peerVersion(name: string): Promise<string> {
  const { default: manifest } = await import(`${name}/package.json`, { with: { type: 'json' } });
  return (manifest as { version: string }).version;
}

const STUB_DEPENDENCIES = ['workbox-window', 'comlink'];

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

export async function measureBundleSize(): Promise<MetricResult> {
  const ours: Size[] = [];
  for (const { name, entry, format } of OURS) ours.push(await bundleSize(name, entry, format));
  const peers: Size[] = [];
  for (const { name, entry, format } of PEERS) {
    peers.push({ ...(await bundleSize(name, entry, format)), version: await peerVersion(name) });
  }
  // What the stub's dependencies weigh in it: the stub rebuilt without each one.
  const stubEntry = OURS[0]!;
  const share: Record<string, number> = {};
  for (const dependency of STUB_DEPENDENCIES) {
    const without = await bundleSize(stubEntry.name, stubEntry.entry, stubEntry.format, [dependency]);
    share[dependency] = ours[0]!.gzip - without.gzip;
  }
  const shareText = Object.entries(share)
    .map(([dependency, bytes]) => `${dependency} ${kb(bytes)}`)
    .join(', ');
  const smallest = peers.reduce((a, b) => (a.gzip <= b.gzip ? a : b));
  const peerList = peers.map((p) => `${p.name} ${p.version}: ${kb(p.gzip)}`).join('; ');
  const stub = ours[0]!;
  const rows: Row[] = ours.map((size, i) => {
    const isStub = i === 0;
    const met = size.gzip <= TARGET_BYTES && peers.every((peer) => size.gzip < peer.gzip);
    return {
      metric: `${size.name}, min+gzip`,
      tabwarden: kb(size.gzip),
      baseline: `smallest peer ${smallest.name}: ${kb(smallest.gzip)}`,
      ratio: formatRatio(size.gzip / smallest.gzip),
      target: isStub ? '≤ 8 KiB and smaller than every peer' : 'report',
      verdict: isStub ? verdict(met) : 'report',
      samples: 'deterministic',
    };
  });
  return {
    rows,
    data: { bytes: { tabwarden: ours, peers }, targetBytes: TARGET_BYTES, stubDependencyGzipBytes: share },
    notes: [
      `Size: min+gzip of each entry bundled in this run by Vite's library build with vite.config.ts's settings (ES module — the snippet as its shipped IIFE; Vite keeps whitespace in ES library output, for peers and tabwarden alike; every emitted chunk counted; gzip at zlib's default level). Peers: ${peerList} (min+gzip of their whole public entry). The page stub is ${kb(stub.gzip)} (${stub.minified} B minified); of that, ${shareText} (gzip bytes saved when the stub is rebuilt without each).`,
    ],
  };
}
