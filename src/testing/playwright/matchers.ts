import { expect as base, type Page } from '@playwright/test';
import { eventsOf, type RecordedEvent } from '../browser/collect-events.ts';

/** Options of `toHaveDispatched`. */
export interface DispatchedOptions {
  /** Exactly this many times (default: at least once). */
  times?: number;
  /** Only events whose `detail` contains these fields (deeply). */
  detail?: Record<string, unknown>;
  /** How long to wait for it. Default: the `expect` timeout. */
  timeout?: number;
}

// Whether `actual` has every field of `expected`, recursively.
function contains(actual: unknown, expected: unknown): boolean {
  if (expected === null || typeof expected !== 'object') return Object.is(actual, expected);
  if (actual === null || typeof actual !== 'object') return false;
  return Object.entries(expected).every(([key, value]) =>
    contains((actual as Record<string, unknown>)[key], value),
  );
}

/**
 * Playwright's `expect`, with matchers for tabwarden's window events (recorded in every tab the
 * `tabs` fixture opens). `toHaveDispatched` waits, like Playwright's own web-first assertions.
 *
 * @example
 * ```ts
 * await expect(tab).toHaveDispatched('onEmbeddedMessagingReady', { times: 2 });
 * await expect(tab).toHaveDispatched('tabwarden:session-cleared', { detail: { reason: 'logout' } });
 * await expect(other).not.toHaveDispatched('onEmbeddedMessagingIdentityTokenExpired');
 * ```
 */
export const expect = base.extend({
  async toHaveDispatched(tab: Page, name: string, options: DispatchedOptions = {}) {
    const timeout = options.timeout ?? this.timeout;
    const deadline = Date.now() + timeout;
    const judge = (events: RecordedEvent[]) => {
      const matching = events.filter(
        (event) =>
          event.name === name && (options.detail === undefined || contains(event.detail, options.detail)),
      );
      return options.times === undefined ? matching.length > 0 : matching.length === options.times;
    };
    let events = await eventsOf(tab);
    let pass = judge(events);
    // Web-first: wait until the assertion holds (or, negated, until it no longer does).
    while (pass === this.isNot && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      events = await eventsOf(tab);
      pass = judge(events);
    }
    const count = events.filter((event) => event.name === name).length;
    const wanted = `${name}${options.times === undefined ? '' : ` ${options.times} time(s)`}${
      options.detail === undefined ? '' : ` with detail ${JSON.stringify(options.detail)}`
    }`;
    return {
      pass,
      name: 'toHaveDispatched',
      message: () =>
        `expected ${tab.url()} ${this.isNot ? 'not ' : ''}to have dispatched ${wanted} within ${timeout} ms; ` +
        `it dispatched ${name} ${count} time(s); all events: ${events.map((event) => event.name).join(', ') || 'none'}`,
    };
  },
});
