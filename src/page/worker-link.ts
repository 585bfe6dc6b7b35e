import type { EventMessage, RestoreCredential, TabApi } from '../core/protocol.ts';

/** The three ways a tab reaches the shared engine (R11). */
export type TransportKind = 'service-worker' | 'shared-worker' | 'in-page';

/** A method of the worker's {@link TabApi} that a tab calls. */
export type TabMethod = Exclude<keyof TabApi, 'subscribe'>;

/** A page's connection to the shared engine, whatever carries it. */
export interface WorkerLink {
  readonly kind: TransportKind;
  /**
   * Calls one method; rejects ERR_TIMEOUT when no answer comes within `timeoutMs`, never hangs.
   * `restore` goes along where a restarted worker may have forgotten the tab (a service worker).
   */
  call<M extends TabMethod>(
    method: M,
    args: Parameters<TabApi[M]>,
    timeoutMs: number,
    restore?: RestoreCredential,
  ): Promise<Awaited<ReturnType<TabApi[M]>>>;
  close(): void;
}

/** Receives the worker's event messages for this tab; resolving acknowledges (R7). */
export type EventSink = (message: EventMessage) => void | Promise<void>;
