import { PROTOCOL_VERSION, type ProbeMessage } from '../core/protocol.ts';
import { parseProbeReply } from '../core/validate-message.ts';

// How long a call may go unanswered before the tab asks whether the worker still has it, and how
// often it asks again. A probe wakes a stopped worker, so a call lost with it is re-sent within
// about this long plus a cold start, never after the call's own time limit (R10).
const PROBE_INTERVAL_MS = 100;

/**
 * Asks the service worker, while calls are unanswered, which of them it still knows; a call the
 * worker does not know was lost with an instance the browser stopped (or replaced). The probe
 * goes through `controller.postMessage`, which wakes a stopped worker, and arrives after the
 * call it asks about (messages to one worker keep their order): "unknown" means lost, not "not
 * arrived yet".
 */
export class CallProber {
  readonly #container: ServiceWorkerContainer;
  /** Each watched call's attempt: the probe that saw it, and what to do when it is lost. */
  readonly #watched = new Map<string, { attempt: number; lost: () => void }>();
  #attempts = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(container: ServiceWorkerContainer) {
    this.#container = container;
  }

  /** Watches the attempt of `callId` just posted; resolves if the worker turns out not to have it. */
  watch(callId: string): Promise<void> {
    const attempt = ++this.#attempts;
    const lost = new Promise<void>((resolve) => this.#watched.set(callId, { attempt, lost: resolve }));
    this.#timer ??= setInterval(() => this.#probe(), PROBE_INTERVAL_MS);
    return lost;
  }

  /** Stops watching `callId` (answered, or given up). */
  forget(callId: string): void {
    this.#watched.delete(callId);
    if (this.#watched.size === 0) this.close();
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #probe(): void {
    const controller = this.#container.controller;
    if (!controller || this.#watched.size === 0) return;
    // Only attempts posted before this probe: a reply about them is a verdict.
    const asked = new Map([...this.#watched].map(([callId, { attempt }]) => [callId, attempt]));
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = (event) => {
      port1.close();
      const reply = parseProbeReply(event.data);
      if (!reply) return;
      for (const [callId, attempt] of asked) {
        const watched = this.#watched.get(callId);
        if (reply.known.includes(callId) || watched?.attempt !== attempt) continue;
        this.#watched.delete(callId);
        watched.lost();
      }
    };
    const probe: ProbeMessage = {
      type: 'tabwarden:probe',
      protocol: PROTOCOL_VERSION,
      callIds: [...asked.keys()],
    };
    controller.postMessage(probe, [port2]);
  }
}
