import type { Subject } from './protocol.ts';

/**
 * True when `a` and `b` name the same user: the same issuer and subject. Every rule that tells
 * users apart (a user switch clears the session, R8; only the session's own user is served, R3)
 * compares subjects with this, and so does the server's check of a conversation's owner.
 */
export function sameSubject(a: Subject, b: Subject): boolean {
  return a.iss === b.iss && a.sub === b.sub;
}
