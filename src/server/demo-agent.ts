import type { Clock } from '../core/clock.ts';
import type { ConversationEntry } from '../core/protocol.ts';

/**
 * The demo agent: answers each user message after a delay, so a conversation is visibly
 * two-sided. Replies are scheduled on the injected clock and dropped on {@link stop}: a
 * shutdown never writes to a closing database.
 *
 * @example
 * ```ts
 * const agent = new DemoAgent({ delayMs: 800, clock: systemClock, reply: (conversationId, text) => append(...) });
 * agent.answer(entry);
 * agent.stop();
 * ```
 */
export class DemoAgent {
  readonly #delayMs: number;
  readonly #clock: Clock;
  readonly #reply: (conversationId: string, text: string) => void;
  readonly #pending = new Set<() => void>();
  #stopped = false;

  constructor(options: {
    delayMs: number;
    clock: Clock;
    reply: (conversationId: string, text: string) => void;
  }) {
    this.#delayMs = options.delayMs;
    this.#clock = options.clock;
    this.#reply = options.reply;
  }

  /** Schedules the answer to a user's message. */
  answer(message: ConversationEntry): void {
    if (this.#stopped) return;
    const cancel = this.#clock.setTimer(() => {
      this.#pending.delete(cancel);
      if (!this.#stopped) this.#reply(message.conversationId, replyTo(message.text));
    }, this.#delayMs);
    this.#pending.add(cancel);
  }

  /** Cancels every scheduled reply. */
  stop(): void {
    this.#stopped = true;
    for (const cancel of this.#pending) cancel();
    this.#pending.clear();
  }
}

/** The agent's words: short, friendly, and plainly an echo so a demo shows what was received. */
export function replyTo(text: string): string {
  const quoted = text.length > 200 ? `${text.slice(0, 200)}…` : text;
  return `Thanks, I got your message: "${quoted}"`;
}
