/**
 * An `EventTarget` whose `addEventListener` and `removeEventListener` know each event's
 * `detail` from an event map, as workbox-window's `WorkboxEventTarget` does; any other event
 * name still takes a plain listener. Types only: at run time it is `EventTarget` itself.
 *
 * @example
 * ```ts
 * import type { Tabwarden } from 'tabwarden';
 *
 * function onCleared(tw: Tabwarden): void {
 *   tw.addEventListener('session-cleared', (e) => console.log(e.detail.reason)); // e: CustomEvent<{ reason }>
 * }
 * ```
 */
export interface TypedEventTarget<EventMap extends object> extends EventTarget {
  addEventListener<K extends keyof EventMap & string>(
    type: K,
    listener:
      | ((event: CustomEvent<EventMap[K]>) => void)
      | { handleEvent(event: CustomEvent<EventMap[K]>): void }
      | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener<K extends keyof EventMap & string>(
    type: K,
    listener:
      | ((event: CustomEvent<EventMap[K]>) => void)
      | { handleEvent(event: CustomEvent<EventMap[K]>): void }
      | null,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
}

/** `EventTarget`, typed as a {@link TypedEventTarget} for classes to extend. */
export const TypedEventTarget = EventTarget as new <EventMap extends object>() => TypedEventTarget<EventMap>;
