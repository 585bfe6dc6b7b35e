import { within } from '../core/clock.ts';
import { ACK_BOUND_MS, type EventMessage } from '../core/protocol.ts';
import { parseEventAck } from '../core/validate-message.ts';

// How long a tab may take to confirm before the worker asks the browser whether it is still there.
const LIVENESS_CHECK_MS = 100;

/**
 * The event port a tab handed its service worker, kept while the worker lives. A post on it
 * reaches the tab directly, where a post to the window client goes through the browser process
 * (about twice as long for ten tabs); the tab confirms each event on the same port by its id,
 * so no event needs a port of its own.
 */
export class TabEventPort {
  readonly #port: MessagePort;
  readonly #waiting = new Map<number, () => void>();
  #lastAckId = 0;

  constructor(port: MessagePort) {
    this.#port = port;
    port.onmessage = (event) => {
      const ackId = parseEventAck(event.data);
      if (ackId !== undefined) this.#waiting.get(ackId)?.();
    };
  }

  /**
   * Sends `message`; resolves true once the tab confirmed (or stayed silent too long), false
   * when a late confirmation made the worker ask `isGone` and the tab has indeed gone — a port
   * cannot tell.
   */
  async send(message: EventMessage, isGone: () => Promise<boolean>): Promise<boolean> {
    const ackId = ++this.#lastAckId;
    const confirmed = new Promise<true>((resolve) => this.#waiting.set(ackId, () => resolve(true)));
    this.#port.postMessage({ ...message, ackId } satisfies EventMessage);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const lateVerdict = new Promise<boolean>((resolve) => {
      timer = setTimeout(async () => {
        // A failed lookup is no verdict: keep waiting, within the bound.
        if (await isGone().catch(() => false)) resolve(false);
        else resolve(within(confirmed, ACK_BOUND_MS).then(() => true));
      }, LIVENESS_CHECK_MS);
    });
    const outcome = await Promise.race([confirmed, lateVerdict]);
    clearTimeout(timer);
    this.#waiting.delete(ackId);
    return outcome;
  }

  /** Closes the port (the tab handed in a new one); events still unconfirmed count as confirmed. */
  close(): void {
    this.#port.close();
    for (const confirm of this.#waiting.values()) confirm();
  }
}
