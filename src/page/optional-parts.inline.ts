// The optional parts (optional-parts.ts) for the script-tag build, which holds them all in its one
// file: each is there from the start, so loading one only answers with what the stub uses of it
// (no module namespace object, which would keep every export).
import { Workbox } from 'workbox-window/build/workbox-window.prod.mjs';
import { InPageTransport } from './in-page-transport.ts';
import type * as lazy from './optional-parts.ts';
import { SharedWorkerTransport } from './shared-worker-transport.ts';
import { workerUnavailable } from './worker-unavailable.ts';

/** The lazy loader `K`, answering with its part's export `Name` only. */
type Loader<
  K extends keyof typeof lazy,
  Name extends keyof Awaited<ReturnType<(typeof lazy)[K]>>,
> = () => Promise<Pick<Awaited<ReturnType<(typeof lazy)[K]>>, Name>>;

export const loadSharedWorkerTransport: Loader<
  'loadSharedWorkerTransport',
  'SharedWorkerTransport'
> = async () => ({
  SharedWorkerTransport,
});
export const loadInPageTransport: Loader<'loadInPageTransport', 'InPageTransport'> = async () => ({
  InPageTransport,
});
export const loadWorkbox: Loader<'loadWorkbox', 'Workbox'> = async () => ({ Workbox });
export const loadWorkerUnavailable: Loader<'loadWorkerUnavailable', 'workerUnavailable'> = async () => ({
  workerUnavailable,
});
