import { within, type Clock } from './clock.ts';
import type { Subject, TabListener, WorkerEvent } from './protocol.ts';
import type { Audience, TabEntry } from './session-state.ts';
import { sameSubject } from './subject.ts';

/** Which tabs hear an event: the reducer's audiences, or the verified tabs following entries (R12). */
export type BroadcastAudience = Audience | { readonly kind: 'following'; readonly subject: Subject };

/**
 * The tabs' event listeners, and the broadcast to them with an acknowledgement timeout (R7): a
 * tab that fails to confirm delays nobody past `ackTimeoutMs`. Which tab is verified as whom is
 * the session state's (session-state.ts); this only knows who listens.
 */
export class TabBroadcaster {
  readonly #listeners = new Map<string, TabListener>();
  readonly #clock: Clock;
  readonly #ackTimeoutMs: number;

  constructor(clock: Clock, ackTimeoutMs: number) {
    this.#clock = clock;
    this.#ackTimeoutMs = ackTimeoutMs;
  }

  subscribe(tabId: string, listener: TabListener): void {
    this.#listeners.set(tabId, listener);
  }

  unsubscribe(tabId: string): void {
    this.#listeners.delete(tabId);
  }

  /** True when some tab of `tabs` that `to` selects listens: a broadcast to `to` would reach it. */
  reaches(tabs: Readonly<Record<string, TabEntry>>, to: BroadcastAudience): boolean {
    return this.#audience(tabs, to).length > 0;
  }

  /** Sends `event` to the tabs of `tabs` that `to` selects; resolves once each confirmed or timed out. */
  broadcast(
    event: WorkerEvent,
    tabs: Readonly<Record<string, TabEntry>>,
    to: BroadcastAudience,
  ): Promise<void> {
    const deliveries = this.#audience(tabs, to).map((tabId) =>
      within(
        Promise.resolve().then(() => this.#listeners.get(tabId)?.(event)),
        this.#ackTimeoutMs,
        this.#clock,
      ),
    );
    return Promise.all(deliveries).then(() => undefined);
  }

  /** The ids of the listening tabs `to` selects. */
  #audience(tabs: Readonly<Record<string, TabEntry>>, to: BroadcastAudience): string[] {
    return Object.entries(tabs)
      .filter(([tabId, tab]) => this.#listeners.has(tabId) && selects(to, tabId, tab))
      .map(([tabId]) => tabId);
  }
}

function selects(to: BroadcastAudience, tabId: string, tab: TabEntry): boolean {
  switch (to.kind) {
    case 'all':
      return true;
    case 'verified':
      return tab.verifiedAs !== undefined;
    case 'verified-except':
      return tab.verifiedAs !== undefined && tabId !== to.tabId;
    case 'following':
      return (
        tab.followsEntries === true && tab.verifiedAs !== undefined && sameSubject(tab.verifiedAs, to.subject)
      );
  }
}
