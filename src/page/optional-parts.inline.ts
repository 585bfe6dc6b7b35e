// The optional parts (optional-parts.ts) for the script-tag build, which holds them all in its one
// file: each is there from the start, so loading one only answers with it. Each loader is typed
// as what the stub uses of the lazy loader's answer.
import * as workbox from 'workbox-window/build/workbox-window.prod.mjs';
import * as inPageTransport from './in-page-transport.ts';
import type * as lazy from './optional-parts.ts';
import * as sharedWorkerTransport from './shared-worker-transport.ts';
import * as workerUnavailable from './worker-unavailable.ts';

type Part<K extends keyof typeof lazy> = Awaited<ReturnType<(typeof lazy)[K]>>;

export const loadSharedWorkerTransport = async (): Promise<
  Pick<Part<'loadSharedWorkerTransport'>, 'SharedWorkerTransport'>
> => sharedWorkerTransport;
export const loadInPageTransport = async (): Promise<Pick<Part<'loadInPageTransport'>, 'InPageTransport'>> =>
  inPageTransport;
export const loadWorkbox = async (): Promise<Pick<Part<'loadWorkbox'>, 'Workbox'>> => workbox;
export const loadWorkerUnavailable = async (): Promise<
  Pick<Part<'loadWorkerUnavailable'>, 'workerUnavailable'>
> => workerUnavailable;
