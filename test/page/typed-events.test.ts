// Typed events: a listener's `e.detail` has the type of its event in the one event map
// (TabwardenEventMap), for the page client and for what the UI accepts. The compile-time half is
// checked by `npm run typecheck` (the @ts-expect-error lines fail it if the types loosen).
import { expect, expectTypeOf, it } from 'vitest';
import type { ClearReason } from '../../src/core/protocol.ts';
import type { Tabwarden, TabwardenEventMap } from '../../src/page/index.ts';
import { TypedEventTarget } from '../../src/page/typed-event-target.ts';
import type { TabwardenLike } from '../../src/page/ui/index.ts';

function typedListeners(tw: Tabwarden, ui: TabwardenLike): void {
  tw.addEventListener('session-cleared', (e) => expectTypeOf(e.detail.reason).toEqualTypeOf<ClearReason>());
  tw.addEventListener('identity-token-expired', (e) => expectTypeOf(e.detail.deadline).toBeNumber());
  ui.addEventListener('entries', (e) => expectTypeOf(e.detail.entries).toBeArray());
  // The UI reads the same map: its `reason` is a ClearReason too, not any string.
  ui.addEventListener('session-cleared', (e) => expectTypeOf(e.detail.reason).toEqualTypeOf<ClearReason>());
  // @ts-expect-error session-cleared's detail has no deadline
  tw.addEventListener('session-cleared', (e) => e.detail.deadline);
  // Other event names still take a plain listener.
  tw.addEventListener('something-else', (e) => expectTypeOf(e).toEqualTypeOf<Event>());
}
void typedListeners;

it('a TypedEventTarget is an EventTarget whose listeners get the dispatched detail', () => {
  const target = new TypedEventTarget<TabwardenEventMap>();
  expect(target).toBeInstanceOf(EventTarget);
  const reasons: ClearReason[] = [];
  const listener = (e: CustomEvent<{ reason: ClearReason }>) => reasons.push(e.detail.reason);
  target.addEventListener('session-cleared', listener);
  target.dispatchEvent(new CustomEvent('session-cleared', { detail: { reason: 'logout' } }));
  target.removeEventListener('session-cleared', listener);
  target.dispatchEvent(new CustomEvent('session-cleared', { detail: { reason: 'logout' } }));
  expect(reasons).toEqual(['logout']);
});
