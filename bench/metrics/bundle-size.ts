// Page stub size: tabwarden's page entries and the peers' entries, each bundled in this run by
// the same Vite (Rolldown) library build with vite.config.ts's settings — ES module (the snippet
// as the IIFE it ships as), fully minified as shipped — then gzipped (zlib default level, as
// scripts/build-bundles.ts reports). Each emitted file is gzipped on its own, as it is served.
//
// The ES page stub code-splits: its SharedWorker and in-page fallbacks are chunks it import()s
// only where no service worker controls the page. So it has two figures: what every page loads
// (the entry and any chunk it imports statically) and everything it can load (every chunk).
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type AliasOptions, type ConfigEnv, type Rolldown, type UserConfig } from 'vite';
import { formatRatio, verdict, type MetricResult, type Row } from '../lib/row.ts';
import viteConfig, { aliasesFor, bundleEntries } from '../../vite.config.ts';

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
  fileName: bundle.fileName as string,
  alias: aliasesFor(bundle),
}));
const PEERS = [
  { name: 'oidc-client-ts', entry: 'bench/fixtures/size/oidc-client-ts.js', format: 'es' as const },
  { name: '@auth0/auth0-spa-js', entry: 'bench/fixtures/size/auth0-spa-js.js', format: 'es' as const },
  { name: '@okta/okta-auth-js', entry: 'bench/fixtures/size/okta-auth-js.js', format: 'es' as const },
].map((peer) => ({ ...peer, fileName: 'bundle.js' }));

interface Bytes {
  minified: number;
  gzip: number;
}

interface ChunkSize extends Bytes {
  file: string;
  /** `initial`: loaded with the entry (the entry, or a chunk it imports statically); `lazy`: only by an import(). */
  loads: 'initial' | 'lazy';
}

interface Size {
  name: string;
  version?: string;
  /** What every page that imports the entry loads: the entry chunk and its static imports. */
  initial: Bytes;
  /** Every chunk the build emitted. */
  total: Bytes;
  chunks: ChunkSize[];
  /** External modules the entry chunk imports (only when some were made external). */
  externalImports: string[];
  /** External modules the entry chunk loads with import(). */
  externalDynamicImports: string[];
}

// The settings vite.config.ts builds tabwarden's bundles with (minify, target, aliases, chunking
// …): peers get exactly these, so a change there moves every figure alike.
const shipped = (viteConfig as (env: ConfigEnv) => UserConfig)({ command: 'build', mode: 'production' });

const shippedLib = shipped.build?.lib || {};

const sum = (sizes: Bytes[]): Bytes => ({
  minified: sizes.reduce((total, size) => total + size.minified, 0),
  gzip: sizes.reduce((total, size) => total + size.gzip, 0),
});

async function bundleSize(
  name: string,
  entry: string,
  format: 'es' | 'iife',
  fileName: string,
  { external = [], alias = shipped.resolve?.alias }: { external?: string[]; alias?: AliasOptions } = {},
): Promise<Size> {
  const output = await build({
    ...shipped,
    resolve: { ...shipped.resolve, alias },
    configFile: false,
    logLevel: 'silent',
    build: {
      ...shipped.build,
      write: false,
      lib: { ...shippedLib, entry: root(entry), formats: [format], fileName: () => fileName },
      // Vite 8 reads rolldownOptions (rollupOptions is only its fallback when rolldownOptions is
      // unset, so an `external` put there went unseen once vite.config.ts set rolldownOptions).
      rolldownOptions: { ...shipped.build?.rolldownOptions, external },
    },
  });
  const chunks = (Array.isArray(output) ? output : [output])
    .flatMap((result) => (result as Rolldown.RolldownOutput).output)
    .filter((file): file is Rolldown.OutputChunk => file.type === 'chunk');
  const entryChunk = chunks.find((chunk) => chunk.isEntry);
  if (!entryChunk) throw new Error(`${name}: the build emitted no entry chunk`);
  // The entry and, transitively, the chunks it imports statically: a page loads them all at once.
  const initial = new Set<string>();
  const visit = (file: string) => {
    if (initial.has(file)) return;
    initial.add(file);
    const chunk = chunks.find((candidate) => candidate.fileName === file);
    for (const imported of chunk?.imports ?? []) visit(imported);
  };
  visit(entryChunk.fileName);
  const sizes: ChunkSize[] = chunks.map((chunk) => ({
    file: chunk.fileName,
    loads: initial.has(chunk.fileName) ? 'initial' : 'lazy',
    minified: Buffer.byteLength(chunk.code),
    gzip: gzipSync(chunk.code).length,
  }));
  const fileNames = new Set(chunks.map((chunk) => chunk.fileName));
  return {
    name,
    initial: sum(sizes.filter((chunk) => chunk.loads === 'initial')),
    total: sum(sizes),
    chunks: sizes,
    externalImports: entryChunk.imports.filter((imported) => !fileNames.has(imported)),
    externalDynamicImports: entryChunk.dynamicImports.filter((imported) => !fileNames.has(imported)),
  };
}

async function peerVersion(name: string): Promise<string> {
  const { default: manifest } = await import(`${name}/package.json`, { with: { type: 'json' } });
  return (manifest as { version: string }).version;
}

// The stub's dependencies, each with the specifiers the stub imports it by (workbox-window's
// modern build by its file: see becomeControlled in src/page/create-tabwarden.ts). comlink is no
// longer one: the page talks to its host over the tab channel (src/page/tab-channel.ts).
const STUB_DEPENDENCIES: Record<string, string[]> = {
  'workbox-window': ['workbox-window', 'workbox-window/build/workbox-window.prod.mjs'],
};

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const exact = (bytes: number) => `${kb(bytes)} (${bytes.toLocaleString('en')} B)`;

export async function measureBundleSize(): Promise<MetricResult> {
  const ours: Size[] = [];
  for (const { name, entry, format, fileName, alias } of OURS)
    ours.push(await bundleSize(name, entry, format, fileName, { alias }));
  const peers: Size[] = [];
  for (const { name, entry, format, fileName } of PEERS) {
    peers.push({ ...(await bundleSize(name, entry, format, fileName)), version: await peerVersion(name) });
  }
  const [stub, snippet, ui] = ours as [Size, Size, Size];
  // What the stub's dependencies weigh: the stub rebuilt without each one (left as an external
  // import, by its package name or a file of it). One it imports statically is in the entry; one
  // it import()s is a chunk of its own (workbox-window: loaded as the page registers its service
  // worker, which every page where service workers exist does first, before any fallback).
  const stubEntry = OURS[0]!;
  const share: Record<string, number> = {};
  const loads: Record<string, 'initial' | 'lazy'> = {};
  for (const [dependency, specifiers] of Object.entries(STUB_DEPENDENCIES)) {
    const { name, entry, format, fileName, alias } = stubEntry;
    const without = await bundleSize(name, entry, format, fileName, { external: specifiers, alias });
    if (without.externalImports.some((imported) => specifiers.includes(imported))) {
      loads[dependency] = 'initial';
      share[dependency] = stub.initial.gzip - without.initial.gzip;
    } else if (without.externalDynamicImports.some((imported) => specifiers.includes(imported))) {
      loads[dependency] = 'lazy';
      share[dependency] = stub.total.gzip - without.total.gzip;
    } else {
      throw new Error(`${dependency} was not left out of the rebuilt stub: its attribution would be wrong`);
    }
  }
  const shareText = (when: 'initial' | 'lazy') =>
    Object.keys(STUB_DEPENDENCIES)
      .filter((dependency) => loads[dependency] === when)
      .map((dependency) => `${dependency} ${kb(share[dependency]!)} (${share[dependency]} B)`)
      .join(', ') || 'none';
  // Peers are compared by what a page loads of them up front, like the stub's entry.
  const smallest = peers.reduce((a, b) => (a.initial.gzip <= b.initial.gzip ? a : b));
  const peerList = peers
    .map(
      (p) =>
        `${p.name} ${p.version}: ${kb(p.initial.gzip)}` +
        (p.chunks.length > 1 ? ` (${kb(p.total.gzip)} with its ${p.chunks.length - 1} lazy chunks)` : ''),
    )
    .join('; ');
  const baseline = `smallest peer ${smallest.name}: ${kb(smallest.initial.gzip)}`;
  // What every page loads: the entry, and the chunks of the dependencies it import()s at start.
  const atStartDependencies = Object.keys(loads).filter((dependency) => loads[dependency] === 'lazy');
  const atStart = stub.chunks.filter(
    (chunk) =>
      chunk.loads === 'initial' || atStartDependencies.some((dependency) => chunk.file.includes(dependency)),
  );
  const atStartGzip = sum(atStart).gzip;
  const fallbacks = stub.chunks.filter((chunk) => !atStart.includes(chunk));
  const stubMet = atStartGzip <= TARGET_BYTES && peers.every((peer) => atStartGzip < peer.initial.gzip);
  const rows: Row[] = [
    {
      metric: `page stub (tabwarden.js + its ${atStartDependencies.join(', ')} chunk), min+gzip: what every page loads`,
      tabwarden: `${exact(atStartGzip)}: ${atStart.map((chunk) => chunk.gzip.toLocaleString('en')).join(' + ')}`,
      baseline,
      ratio: formatRatio(atStartGzip / smallest.initial.gzip),
      target: '≤ 8 KiB and smaller than every peer',
      verdict: verdict(stubMet),
      samples: 'deterministic',
    },
    {
      metric: `page stub with its ${fallbacks.length} other lazy chunks (SharedWorker, in-page, failure diagnosis), min+gzip`,
      tabwarden: exact(stub.total.gzip),
      baseline,
      ratio: formatRatio(stub.total.gzip / smallest.initial.gzip),
      target: 'report',
      verdict: 'report',
      samples: 'deterministic',
    },
    ...[snippet, ui].map((size): Row => ({
      metric: `${size.name}${size === snippet ? ', one file (IIFE: fallbacks inlined)' : ''}, min+gzip`,
      tabwarden: exact(size.total.gzip),
      baseline,
      ratio: formatRatio(size.total.gzip / smallest.initial.gzip),
      target: 'report',
      verdict: 'report',
      samples: 'deterministic',
    })),
  ];
  const chunkList = stub.chunks.map((chunk) => `${chunk.file} ${chunk.gzip} B (${chunk.loads})`).join(', ');
  return {
    rows,
    data: {
      bytes: { tabwarden: ours, peers },
      targetBytes: TARGET_BYTES,
      stubDependencyGzipBytes: share,
      stubDependencyLoads: loads,
    },
    notes: [
      `Size: min+gzip of each entry bundled in this run by Vite's library build with vite.config.ts's settings (ES module — the snippet as its shipped IIFE; fully minified, for peers and tabwarden alike; each emitted file gzipped on its own at zlib's default level). Peers: ${peerList} (their whole public entry). The page stub's files: ${chunkList}; every page loads the initial file(s) and, as it registers its service worker (first, wherever service workers exist), the chunk of ${shareText('lazy')}; a SharedWorker page adds the shared-worker-transport chunk, an in-page one the in-page-transport chunk (and the leader tab the engine, tabwarden-in-page-host.js, not counted here). Dependencies in the entry itself: ${shareText('initial')} (gzip bytes saved when the stub is rebuilt without each).`,
    ],
  };
}
