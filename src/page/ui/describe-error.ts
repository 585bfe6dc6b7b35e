// Turns a rejected call into words for the chat panel. Only our own text and the error's `code`
// are shown, never the error's message: what a worker or server says is not for end users, and
// must not be a path for anything secret into the DOM.

/** The stable `code` of a tabwarden error, or undefined for anything else. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') {
    return error.code;
  }
  return undefined;
}

/** What the panel was doing when the call failed; `queued`: a message of the outbox was refused. */
export type PanelAction = 'start' | 'send' | 'load' | 'queued';

/** A sentence for the user, ending with the code in brackets so support can match it. */
export function describeError(error: unknown, action: PanelAction): string {
  const code = errorCode(error);
  const suffix = code ? ` (${code})` : '';
  switch (code) {
    case 'ERR_NETWORK':
      return action === 'send'
        ? `You're offline, so your message wasn't sent. Your text is kept: send it again when you're back online.${suffix}`
        : `Can't reach the server. Check your connection and try again.${suffix}`;
    case 'ERR_TIMEOUT':
      return `That took too long. Please try again.${suffix}`;
    case 'ERR_SESSION_CLEARED':
    case 'ERR_NO_SESSION':
    case 'ERR_NOT_VERIFIED':
    case 'ERR_AUTHORIZATION_FAILED':
      return `You're signed out. Sign in again to continue.${suffix}`;
    case 'ERR_NOT_READY':
      return `The chat isn't ready yet. Try again in a moment.${suffix}`;
    case 'ERR_CONVERSATION_ENDED':
      return `This conversation has ended.${suffix}`;
    case 'ERR_INVALID_ARGUMENT':
    case 'ERR_PAYLOAD_TOO_LARGE':
      return `That message is too long or not valid.${suffix}`;
    case 'ERR_RATE_LIMITED':
      return `Too many requests. Wait a moment and try again.${suffix}`;
    default:
      if (action === 'queued') return `The server refused it.${suffix}`;
      return action === 'send'
        ? `Your message wasn't sent. Your text is kept: try again.${suffix}`
        : `Something went wrong. Please try again.${suffix}`;
  }
}
