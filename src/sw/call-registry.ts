// How long a worker remembers a call it answered: a probe that crossed the answer on its way
// must not make the tab re-send a call that took effect.
const REMEMBER_SETTLED_MS = 30_000;

/**
 * The calls this worker instance is working on, and those it answered a moment ago, by call id.
 * It lives in the worker's memory, so it dies with the worker: a tab that probes for a call the
 * (restarted) worker does not know learns that the call was lost with it, and re-sends (R10).
 */
export class CallRegistry {
  /** Made when this worker instance started. */
  readonly instanceId = crypto.randomUUID();
  readonly #known = new Set<string>();

  /** Tracks `callId` until `settled` has settled, and a while after. */
  track(callId: string | undefined, settled: Promise<unknown>): void {
    if (callId === undefined) return;
    this.#known.add(callId);
    const forget = () => setTimeout(() => this.#known.delete(callId), REMEMBER_SETTLED_MS);
    settled.then(forget, forget);
  }

  /** Which of `callIds` this instance knows. */
  known(callIds: readonly string[]): string[] {
    return callIds.filter((id) => this.#known.has(id));
  }
}
