import { systemClock, type Clock } from '../../core/clock.ts';
import { isMessageText } from '../../core/message-rules.ts';
import type { ConversationEntry, OutboxMessage } from '../../core/protocol.ts';
import { describeError, errorCode, type PanelAction } from './describe-error.ts';
import { EntryStore } from './entry-store.ts';
import { SPEAKER } from './speaker.ts';
import { listen, type TabwardenLike } from './tabwarden-like.ts';

/** Codes that mean the session is gone: the `session-cleared` event tidies up, no error to show. */
const SIGNED_OUT = new Set(['ERR_SESSION_CLEARED', 'ERR_NO_SESSION', 'ERR_NOT_VERIFIED']);
const STARTING = 'Starting the conversation…';

/** What the chat panel shows, as {@link ConversationController} hands it over after each change. */
export interface ConversationState {
  /** Stored entries of the conversation, each once, in `seq` order. */
  readonly entries: readonly ConversationEntry[];
  /** The outbox's messages of this conversation not stored yet, in delivery order (R12). */
  readonly outbox: readonly OutboxMessage[];
  /** The first load is done: an empty conversation may now say so. */
  readonly loaded: boolean;
  /** A send is in flight: another one waits. */
  readonly sending: boolean;
  /** The quiet status line ("Starting the conversation…", a failed background load). */
  readonly status: string;
  /** Why the last start, send, retry or discard failed, with its code; empty if none. */
  readonly error: string;
  /** Whole seconds left of the grace window (R6), 0 once it ran out; undefined when none is open. */
  readonly graceLeft: number | undefined;
  /** The browser or the worker says the network is gone (R12). */
  readonly offline: boolean;
}

/** How a {@link ConversationController} talks to its view. */
export interface ConversationView {
  /** The state changed (and once when the controller is made): show it. */
  render(state: ConversationState): void;
  /** A line for the polite live region. */
  announce(text: string): void;
  /** The session was cleared (R7, R8): close, and forget the draft. */
  cleared(): void;
  /** The browser's own word on the network (`navigator.onLine`). */
  online(): boolean;
}

/**
 * The chat panel's conversation without its DOM: starts or resumes the session (R4) with one
 * call in flight, merges entries from every source in order, tracks the outbox (R12), the grace
 * window (R6) and connectivity, and drops answers that arrive after a clear (R7, R8).
 *
 * @example
 * ```ts
 * const conversation = new ConversationController(tw, {
 *   render: (state) => show(state),
 *   announce: (text) => liveRegion.append(text),
 *   cleared: () => closePanel(),
 *   online: () => navigator.onLine,
 * });
 * conversation.connect();
 * await conversation.open(); // started or resumed; a failure is in `state.error`
 * await conversation.send('Hello');
 * ```
 */
export class ConversationController {
  readonly #tw: TabwardenLike;
  readonly #view: ConversationView;
  readonly #clock: Clock;
  #listeners: AbortController | undefined;
  readonly #entries = new EntryStore();
  #outbox: OutboxMessage[] = [];
  /** Bumped whenever the session is cleared: answers for an older session are dropped (R8). */
  #generation = 0;
  #conversationId: string | undefined;
  #open = false;
  #starting: Promise<void> | undefined;
  #refreshing: Promise<void> | undefined;
  #refreshAgain = false;
  #sending = false;
  /** Entries of the first load are history, not news: only later ones are announced. */
  #historyLoaded = false;
  #status = '';
  /** The status line shows a failed load: the next good one clears it. */
  #statusFromLoad = false;
  #error = '';
  #graceDeadline: number | undefined;
  #stopGraceTimer: (() => void) | undefined;
  #offline = false;
  /** Ends following the server's entry stream; set while the panel is open. */
  #endWatch: (() => void) | undefined;

  constructor(tw: TabwardenLike, view: ConversationView, clock: Clock = systemClock) {
    this.#tw = tw;
    this.#view = view;
    this.#clock = clock;
    this.#render();
  }

  /** Listens to the client's events; the view calls it when it is connected. */
  connect(): void {
    const tw = this.#tw;
    if (this.#listeners) return;
    this.#listeners = new AbortController();
    const { signal } = this.#listeners;
    // The session is gone (R7, R8): nothing of it may stay on screen.
    listen(
      tw,
      'session-cleared',
      () => {
        this.#view.cleared();
        this.#reset();
      },
      signal,
    );
    listen(
      tw,
      'session-started',
      ({ conversationId }) => conversationId && this.#adopt(conversationId),
      signal,
    );
    listen(tw, 'entries', ({ entries }) => entries && this.#addEntries(entries, this.#historyLoaded), signal);
    listen(tw, 'outbox', ({ messages }) => messages && this.#showOutbox(messages), signal);
    listen(tw, 'message-delivered', ({ entry }) => entry && this.#addEntries([entry], false), signal);
    listen(tw, 'connectivity', () => this.networkChanged(), signal);
    listen(
      tw,
      'identity-token-expired',
      ({ deadline }) => typeof deadline === 'number' && this.#startGrace(deadline),
      signal,
    );
    // A valid token from any tab ends the wait and releases the waiting requests (R6, R9).
    listen(tw, 'identity-token-refreshed', () => this.#endGrace(true), signal);
    listen(tw, 'verified', () => this.#endGrace(true), signal);
    if (tw.state.conversationId) void this.#adopt(tw.state.conversationId);
  }

  /** Stops listening, following the stream and counting down; the state stays. */
  disconnect(): void {
    this.#listeners?.abort();
    this.#listeners = undefined;
    this.close();
    this.#stopGraceTimer?.();
  }

  /** Disconnects and forgets everything: answers still in flight are dropped. */
  dispose(): void {
    this.disconnect();
    this.#reset();
  }

  /**
   * The panel opened in a verified tab: follow the live entries and start or resume the session.
   * Resolves when the start is over, failed or not (its error is in the state).
   */
  open(): Promise<void> {
    const tw = this.#tw;
    this.#open = true;
    this.networkChanged();
    const deadline = tw.state.graceDeadline;
    if (deadline !== undefined && deadline > this.#clock.now()) this.#startGrace(deadline);
    this.#endWatch?.();
    // Agent replies and other tabs' messages arrive from the worker's one live stream (R12).
    this.#endWatch = tw.watchEntries(this.#entries.lastSeq);
    // Opening the conversation is an interaction (R6): always ask, the worker answers at once
    // when the session is already up.
    return this.#start().catch(() => undefined);
  }

  /** The panel closed: stop following the live entries. */
  close(): void {
    this.#open = false;
    this.#endWatch?.();
    this.#endWatch = undefined;
  }

  /**
   * Sends `text` (trimmed by the caller). Resolves true once it is stored or waits in the outbox;
   * false when it was not sent (the reason is the state's `error`) or the session was cleared.
   */
  async send(text: string): Promise<boolean> {
    if (this.#sending) return false;
    // The shared rule counts code points; a textarea's maxlength would count UTF-16 units.
    if (!isMessageText(text)) {
      this.#fail({ code: 'ERR_INVALID_ARGUMENT' }, 'send');
      return false;
    }
    const generation = this.#generation;
    this.#sending = true;
    this.#error = '';
    this.#setStatus('Sending…');
    try {
      if (!this.#conversationId) await this.#start();
      const sent = await this.#tw.sendMessage(text);
      if (generation !== this.#generation) return false;
      this.#sending = false;
      this.#setStatus('');
      if ('status' in sent) {
        // In the outbox (R12): shown as waiting until `message-delivered` replaces it.
        this.#showOutbox([...this.#outbox.filter((m) => m.clientMessageId !== sent.clientMessageId), sent]);
        this.#view.announce('Saved. It will be sent when the connection is back.');
      } else {
        // Stored: the agent's reply comes on the live stream the panel follows (R12).
        this.#addEntries([sent], false);
      }
      return true;
    } catch (error) {
      if (generation !== this.#generation) return false;
      this.#sending = false;
      this.#setStatus('');
      this.#fail(error, 'send');
      return false;
    }
  }

  /** Puts a refused message back in line (R12); the outcome arrives as `outbox` events. */
  retry(clientMessageId: string): Promise<void> {
    return this.#act(() => this.#tw.retryMessage(clientMessageId));
  }

  /** Drops a message from the outbox for good (R12). */
  discard(clientMessageId: string): Promise<void> {
    return this.#act(() => this.#tw.discardMessage(clientMessageId));
  }

  /** Fetches entries after the last one held; overlapping calls fold into one more round. */
  refresh(): Promise<void> {
    if (!this.#conversationId) return Promise.resolve();
    if (this.#refreshing) {
      this.#refreshAgain = true;
      return this.#refreshing;
    }
    const generation = this.#generation;
    const run = async () => {
      try {
        do {
          this.#refreshAgain = false;
          const entries = await this.#tw.listEntries(this.#entries.lastSeq);
          if (generation !== this.#generation) return;
          const announce = this.#historyLoaded;
          this.#historyLoaded = true;
          if (this.#statusFromLoad) this.#setStatus('');
          this.#addEntries(entries, announce);
          this.#render();
        } while (this.#refreshAgain);
      } catch (error) {
        if (generation !== this.#generation || SIGNED_OUT.has(errorCode(error) ?? '')) return;
        // A failed background load is not an alert: the status line says it quietly.
        this.#setStatus(describeError(error, 'load'), true);
      } finally {
        // As in #start: a run from before a clear must not forget a newer one when it ends.
        if (generation === this.#generation) this.#refreshing = undefined;
      }
    };
    return (this.#refreshing = run());
  }

  /** The browser's or the worker's view of the network may have changed. */
  networkChanged(): void {
    // The browser's word, or the worker's: its requests failing is proof enough (R12).
    const offline = !this.#view.online() || this.#tw.online === false;
    if (offline === this.#offline) return;
    this.#offline = offline;
    this.#render();
    if (!offline && this.#open) void this.refresh();
  }

  // ---- internals ----

  /** Hands the view the state as it is now. */
  #render(): void {
    this.#view.render({
      entries: this.#entries.all(),
      outbox: this.#outbox,
      loaded: this.#historyLoaded,
      sending: this.#sending,
      status: this.#status,
      error: this.#error,
      graceLeft: this.#graceSecondsLeft(),
      offline: this.#offline,
    });
  }

  #setStatus(text: string, fromLoad = false): void {
    this.#status = text;
    this.#statusFromLoad = fromLoad;
    this.#render();
  }

  #fail(error: unknown, action: PanelAction): void {
    if (!SIGNED_OUT.has(errorCode(error) ?? '')) {
      this.#error = describeError(error, action);
      this.#render();
    }
  }

  /** Starts or resumes the session; one call in flight at a time. */
  #start(): Promise<void> {
    const generation = this.#generation;
    // A clear forgets this run (#reset); when it ends later it must not forget a newer one.
    return (this.#starting ??= this.#startOnce().finally(() => {
      if (generation === this.#generation) this.#starting = undefined;
    }));
  }

  async #startOnce(): Promise<void> {
    const tw = this.#tw;
    const generation = this.#generation;
    const firstStart = !this.#conversationId;
    if (firstStart) this.#setStatus(STARTING);
    try {
      const { conversationId } = await tw.startConversation();
      if (generation !== this.#generation) return;
      if (firstStart && this.#status === STARTING) this.#setStatus('');
      // A new conversation's adoption loads it: that load is this start's, not one more.
      const adopted = this.#adopt(conversationId);
      await Promise.all([adopted ?? this.refresh(), this.#loadOutbox()]);
    } catch (error) {
      if (generation !== this.#generation) return;
      if (firstStart) this.#setStatus('');
      // Offline, the session the worker already holds still shows its cached history and its
      // outbox (R12).
      if (!this.#conversationId && tw.state.conversationId) void this.#adopt(tw.state.conversationId);
      void this.#loadOutbox();
      this.#fail(error, 'start');
      throw error;
    }
  }

  /** Shows `conversationId` from now on; if it is new and the panel open, loads it (resolved). */
  #adopt(conversationId: string): Promise<void> | undefined {
    if (conversationId === this.#conversationId) return undefined;
    this.#conversationId = conversationId;
    this.#entries.clear();
    this.#outbox = [];
    this.#historyLoaded = false;
    this.#render();
    return this.#open ? this.refresh() : undefined;
  }

  #addEntries(entries: readonly ConversationEntry[], announce: boolean): void {
    const added = this.#entries.merge(
      entries.filter((entry) => entry.conversationId === this.#conversationId),
    );
    if (added.length === 0) return;
    // A stored message is no longer waiting: it may arrive from the stream before the outbox says so.
    this.#showOutbox(this.#outbox);
    if (announce) {
      for (const entry of added) {
        if (entry.role !== 'user') this.#view.announce(`${SPEAKER[entry.role]}: ${entry.text}`);
      }
    }
  }

  /** Fetches the outbox; its `outbox` events keep it current from then on. */
  async #loadOutbox(): Promise<void> {
    if (!this.#conversationId) return;
    const generation = this.#generation;
    try {
      const messages = await this.#tw.listOutbox();
      if (generation === this.#generation) this.#showOutbox(messages);
    } catch {
      // Best effort: the next `outbox` event brings it.
    }
  }

  /** Keeps the outbox's messages of this conversation that are not stored yet. */
  #showOutbox(messages: readonly OutboxMessage[]): void {
    const stored = new Set(this.#entries.all().map((entry) => entry.clientMessageId));
    this.#outbox = messages.filter(
      (message) => message.conversationId === this.#conversationId && !stored.has(message.clientMessageId),
    );
    this.#render();
  }

  /** A retry or discard; the outcome arrives as `outbox` / `message-delivered` events. */
  async #act(action: () => Promise<void>): Promise<void> {
    const generation = this.#generation;
    this.#error = '';
    this.#render();
    try {
      await action();
    } catch (error) {
      if (generation === this.#generation) this.#fail(error, 'send');
    }
    await this.#loadOutbox();
  }

  #graceSecondsLeft(): number | undefined {
    const deadline = this.#graceDeadline;
    return deadline === undefined ? undefined : Math.max(0, Math.ceil((deadline - this.#clock.now()) / 1000));
  }

  #startGrace(deadline: number): void {
    if (!this.#tw.state.verified) return;
    const isNew = this.#graceDeadline !== deadline;
    this.#graceDeadline = deadline;
    if (isNew && this.#open)
      this.#view.announce('Your sign-in has expired. Waiting for a new sign-in to continue.');
    this.#stopGraceTimer?.();
    const tick = () => {
      this.#render();
      // Counts down each second until the window ran out.
      this.#stopGraceTimer = this.#graceSecondsLeft() ? this.#clock.setTimer(tick, 1000) : undefined;
    };
    tick();
  }

  #endGrace(renewed: boolean): void {
    if (this.#graceDeadline === undefined) return;
    this.#graceDeadline = undefined;
    this.#stopGraceTimer?.();
    this.#render();
    if (renewed && this.#open) {
      this.#view.announce('Signed in again. Continuing.');
      void this.refresh();
    }
  }

  #reset(): void {
    this.#generation += 1;
    this.#conversationId = undefined;
    this.#starting = undefined;
    this.#refreshing = undefined;
    this.#refreshAgain = false;
    this.#sending = false;
    this.#historyLoaded = false;
    this.#entries.clear();
    this.#outbox = [];
    this.#error = '';
    this.#endGrace(false);
    this.#setStatus('');
  }
}
