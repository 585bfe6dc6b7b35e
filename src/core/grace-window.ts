// The grace window (R6): once both tokens expired and a request waits, how long a new identity
// token may take before the session is cleared everywhere. One setting, read on both sides of the
// tab channel: the engine opens and closes the window, and the page stub (and the test kit's
// in-process client) give the calls that may wait it out that much longer, so a page's time limit
// never ends a wait the worker still honours.

/** The grace window's length unless `worker.graceMs` says otherwise: 30 s (R6). */
export const DEFAULT_GRACE_MS = 30_000;
