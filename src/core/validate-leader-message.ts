// The in-page transport's messages (R11's last resort), checked apart from the others so that
// only the pages and leaders that use that transport load the check.
import { PROTOCOL_VERSION, type LeaderMessage } from './protocol.ts';
import { isId, isRecord, isText, parseWorkerEvent } from './validate-message.ts';

/** The in-page transport message in `data`, if it is a well-formed one of this protocol version. */
export function parseLeaderMessage(data: unknown): LeaderMessage | undefined {
  if (!isRecord(data) || data.protocol !== PROTOCOL_VERSION) return undefined;
  const protocol = data.protocol;
  switch (data.type) {
    case 'tabwarden:call':
      if (!isId(data.tabId) || !isId(data.callId) || !isText(data.method) || !Array.isArray(data.args)) {
        return undefined;
      }
      return {
        type: data.type,
        protocol,
        tabId: data.tabId,
        callId: data.callId,
        method: data.method,
        args: data.args,
      };
    case 'tabwarden:reply':
      if (!isId(data.tabId) || !isId(data.callId) || !('result' in data)) return undefined;
      return { type: data.type, protocol, tabId: data.tabId, callId: data.callId, result: data.result };
    case 'tabwarden:event': {
      const event = parseWorkerEvent(data.event);
      if (!event || !isId(data.ackId) || !(isId(data.tabId) || data.tabId === '*')) return undefined;
      return { type: data.type, protocol, tabId: data.tabId as string, event, ackId: data.ackId };
    }
    case 'tabwarden:ack':
      return isId(data.ackId) ? { type: data.type, protocol, ackId: data.ackId } : undefined;
    default:
      return undefined;
  }
}
