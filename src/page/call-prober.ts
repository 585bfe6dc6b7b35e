import { instanceLockName, PROTOCOL_VERSION, type ProbeMessage } from '../core/protocol.ts';
import { parseProbeReply } from '../core/validate-message.ts';

// While calls are unanswered, the tab asks this often anyway (where Web Locks are missing, or a
// lock is not released): a lost call is re-sent within about this long plus a cold start.
const FALLBACK_PROBE_MS = 250;

/**
 * Learns promptly that a call died with the service-worker instance that had it (R10). A probe
 * asks the worker which of the tab's unanswered calls it knows; it goes through
 * `controller.postMessage`, which wakes a stopped worker, and arrives after the calls it asks
 * about (messages to one worker keep their order), so "unknown" means lost, not "not arrived
 * yet". The tab probes when a call starts on an instance it does not know yet, when the Web
 * Lock of the instance it knows is granted (the browser stopped it), and every
 * {@link FALLBACK_PROBE_MS} while calls wait.
 */
export class CallProber {
  readonly #container: ServiceWorkerContainer;
  /** Each watched call's attempt (to tell a verdict on it from one on an earlier attempt) and its loss. */
  readonly #watched = new Map<string, { attempt: number; lost: () => void }>();
  /** Instances whose end the tab waits for. */
  readonly #instances = new Set<string>();
  #alive: string | undefined;
  #attempts = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(container: ServiceWorkerContainer) {
    this.#container = container;
  }

  /** Watches the attempt of `callId` just posted; resolves if the worker turns out not to have it. */
  watch(callId: string): Promise<void> {
    const attempt = ++this.#attempts;
    const lost = new Promise<void>((resolve) => this.#watched.set(callId, { attempt, lost: resolve }));
    this.#timer ??= setInterval(() => this.#probe(), FALLBACK_PROBE_MS);
    if (this.#alive === undefined) this.#probe();
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
      this.#waitForEnd(reply.instanceId);
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

  /** Probes as soon as the instance `instanceId` ends: its lock is then granted to this tab. */
  #waitForEnd(instanceId: string): void {
    this.#alive = instanceId;
    if (this.#instances.has(instanceId) || !navigator.locks) return;
    this.#instances.add(instanceId);
    void navigator.locks.request(instanceLockName(instanceId), () => {
      this.#instances.delete(instanceId);
      if (this.#alive === instanceId) this.#alive = undefined;
      this.#probe();
    });
  }
}
