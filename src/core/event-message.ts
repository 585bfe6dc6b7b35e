// Building the messages that carry worker events to tabs. Apart from protocol.ts, which the page
// stub loads, so that only the transports that build them (worker hosts, fallback links) do.
import { PROTOCOL_VERSION, type EventMessage, type WorkerEvent } from './protocol.ts';

/** The {@link EventMessage} carrying `event` to `tabId` (`'*'`: every tab). */
export function eventMessage(tabId: string, event: WorkerEvent): EventMessage {
  return { type: 'tabwarden:event', protocol: PROTOCOL_VERSION, tabId, event };
}

/**
 * What a worker (or leader) that just started asks of every tab: reconnect and re-present the
 * in-memory identity token (R10).
 */
export function reconnectRequest(sessionVersion: number): WorkerEvent {
  return { type: 'identity-token-requested', sessionVersion };
}
