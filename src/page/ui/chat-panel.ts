import { isMessageText } from '../../core/message-rules.ts';
import type { ConversationEntry, OutboxMessage } from '../../core/protocol.ts';
import { chatPanelStyleSheet } from './chat-panel-styles.ts';
import { h, icon } from './create-element.ts';
import { describeError, errorCode } from './describe-error.ts';
import { EntryStore } from './entry-store.ts';
import { renderEntry } from './render-entry.ts';
import { SPEAKER } from './speaker.ts';
import { renderOutboxMessage } from './render-outbox-message.ts';
import { ElementBase } from './element-base.ts';
import { listen, type TabwardenLike } from './tabwarden-like.ts';

const CLOSE_ICON =
  'M18.3 5.71 12 12l6.3 6.29-1.41 1.42L10.59 13.4 4.3 19.71 2.88 18.3 9.17 12 2.88 5.71 4.3 4.29l6.29 6.3 6.3-6.3z';

/** Codes that mean the session is gone: the `session-cleared` event tidies up, no error to show. */
const SIGNED_OUT = new Set(['ERR_SESSION_CLEARED', 'ERR_NO_SESSION', 'ERR_NOT_VERIFIED']);

/** The `detail` of {@link TabwardenChatPanel}'s `tabwarden-panel-toggle` event. */
export interface PanelToggleDetail {
  open: boolean;
}

/**
 * `<tabwarden-chat-panel>`: the conversation with the agent in a verified tab — history, new
 * entries as they arrive, and a form to send. Opening it starts or resumes the session (R4).
 * While a request waits for a new identity token (R6) it shows the deadline. Offline, a message
 * waits in the worker's outbox and shows as "Waiting to send" in every tab until it is stored; one
 * the server refused shows why, with Retry and Discard (R12). A send refused at once keeps the
 * typed text and says why. Cleared sessions (R7, R8) leave nothing behind: entries, outbox,
 * draft and errors are wiped and the panel closes.
 *
 * Attributes: `open` (shown), `floating` (fixed above a floating button). Property
 * `tabwarden`: the client. Event `tabwarden-panel-toggle` (`detail: { open }`). Styling:
 * `::part()` names and `--tabwarden-*` properties in README.md. Slot `title`.
 *
 * @example
 * ```ts
 * defineTabwardenElements();
 * const panel = document.createElement('tabwarden-chat-panel');
 * panel.tabwarden = tw;
 * document.querySelector('#support')!.append(panel);
 * panel.show(); // starts the conversation and focuses the message box
 * ```
 */
export class TabwardenChatPanel extends ElementBase {
  static readonly observedAttributes = ['open'];

  #tw: TabwardenLike | undefined;
  #listeners: AbortController | undefined;
  readonly #entries = new EntryStore();
  /** The outbox's messages of this conversation, in delivery order, shown after the entries. */
  #outbox: OutboxMessage[] = [];
  /** Bumped whenever the session is cleared: answers for an older session are dropped (R8). */
  #generation = 0;
  #conversationId: string | undefined;
  #starting: Promise<void> | undefined;
  #refreshing: Promise<void> | undefined;
  #refreshAgain = false;
  #sending = false;
  /** Entries of the first load are history, not news: only later ones are announced. */
  #historyLoaded = false;
  #graceDeadline: number | undefined;
  #graceTimer: ReturnType<typeof setInterval> | undefined;
  /** Ends following the server's entry stream; set while the panel is open. */
  #endWatch: (() => void) | undefined;
  #returnFocus: HTMLElement | undefined;

  readonly #log: HTMLOListElement;
  readonly #empty: HTMLParagraphElement;
  readonly #graceBanner: HTMLParagraphElement;
  readonly #offlineBanner: HTMLParagraphElement;
  readonly #status: HTMLParagraphElement;
  readonly #error: HTMLParagraphElement;
  readonly #announcer: HTMLDivElement;
  readonly #form: HTMLFormElement;
  readonly #input: HTMLTextAreaElement;
  readonly #send: HTMLButtonElement;

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    root.adoptedStyleSheets = [chatPanelStyleSheet()];

    const close = h(
      'button',
      { type: 'button', class: 'close', part: 'close-button', 'aria-label': 'Close conversation' },
      icon(CLOSE_ICON, 'close-icon'),
    );
    close.addEventListener('click', () => this.hide());

    this.#graceBanner = h('p', { class: 'banner', part: 'banner grace-banner', hidden: true });
    this.#offlineBanner = h(
      'p',
      { class: 'banner', part: 'banner offline-banner', hidden: true },
      "You're offline. Saved messages stay readable; new ones wait here and go out when you're back.",
    );
    this.#log = h('ol', { class: 'log', part: 'log', 'aria-label': 'Messages', tabindex: 0 });
    this.#empty = h('p', { class: 'empty', part: 'empty' }, 'No messages yet. Say hello!');
    this.#status = h('p', { class: 'status', part: 'status', role: 'status' });
    this.#error = h('p', { class: 'error', part: 'error', role: 'alert' });
    this.#announcer = h('div', { class: 'sr-only', 'aria-live': 'polite' });
    this.#input = h('textarea', {
      id: 'message',
      part: 'input',
      rows: 1,
      required: true,
      autocomplete: 'off',
      placeholder: 'Write a message…',
      enterkeyhint: 'send',
    });
    this.#send = h('button', { type: 'submit', class: 'send', part: 'send-button' }, 'Send');
    this.#form = h(
      'form',
      { class: 'form', part: 'form', novalidate: true },
      h('label', { for: 'message', class: 'sr-only' }, 'Message'),
      this.#input,
      this.#send,
    );

    root.append(
      h(
        'section',
        { class: 'panel', part: 'panel', role: 'dialog', 'aria-labelledby': 'title' },
        // A div, not <header>: a header here would read as the page's banner landmark.
        h(
          'div',
          { class: 'header', part: 'header' },
          h(
            'h2',
            { id: 'title', class: 'title', part: 'title' },
            h('slot', { name: 'title' }, 'Conversation'),
          ),
          close,
        ),
        this.#graceBanner,
        this.#offlineBanner,
        h('div', { class: 'body' }, this.#log, this.#empty),
        this.#status,
        this.#error,
        this.#form,
        this.#announcer,
      ),
    );

    this.#form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.send();
    });
    this.#input.addEventListener('keydown', (event) => {
      // Enter sends, Shift+Enter is a new line; never while an input method is composing.
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.#form.requestSubmit();
      }
    });
    this.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        event.stopPropagation();
        this.hide();
      }
    });
  }

  /** The client the panel talks to. Setting it again rebinds the panel. */
  get tabwarden(): TabwardenLike | undefined {
    return this.#tw;
  }

  set tabwarden(tw: TabwardenLike | undefined) {
    if (tw === this.#tw) return;
    this.#unbind();
    this.#reset();
    this.#tw = tw;
    if (this.isConnected) this.#bind();
  }

  /** Whether the panel is shown (the `open` attribute). */
  get open(): boolean {
    return this.hasAttribute('open');
  }

  /**
   * Shows the panel in a verified tab, starts or resumes the conversation and loads its
   * history. `returnFocusTo` gets focus back when the panel closes.
   */
  show(options: { focus?: boolean; returnFocusTo?: HTMLElement } = {}): void {
    if (!this.#tw?.state.verified) return;
    this.#returnFocus = options.returnFocusTo;
    this.toggleAttribute('open', true);
    if (options.focus ?? true) this.#input.focus();
  }

  /** Hides the panel; focus goes back to where it was opened from. */
  hide(): void {
    if (!this.open) return;
    const hadFocus = this.matches(':focus-within');
    this.removeAttribute('open');
    if (hadFocus) this.#returnFocus?.focus();
  }

  /** Sends what the message box holds (what the form's submit does). */
  async send(): Promise<void> {
    const tw = this.#tw;
    const text = this.#input.value.trim();
    if (!tw || !text || this.#sending) return;
    // The shared rule counts code points; a textarea's maxlength would count UTF-16 units.
    if (!isMessageText(text)) {
      this.#error.textContent = describeError({ code: 'ERR_INVALID_ARGUMENT' }, 'send');
      return;
    }
    const generation = this.#generation;
    this.#sending = true;
    this.#send.setAttribute('aria-disabled', 'true');
    this.#error.textContent = '';
    this.#status.textContent = 'Sending…';
    try {
      await this.#ensureStarted();
      const sent = await tw.sendMessage(text);
      if (generation !== this.#generation) return;
      // Clear the box only if it still holds what was sent: typing on meanwhile is kept.
      if (this.#input.value.trim() === text) this.#input.value = '';
      this.#status.textContent = '';
      if ('status' in sent) {
        // In the outbox (R12): shown as waiting until `message-delivered` replaces it.
        this.#showOutbox([...this.#outbox.filter((m) => m.clientMessageId !== sent.clientMessageId), sent]);
        this.#announce('Saved. It will be sent when the connection is back.');
      } else {
        this.#addEntries([sent], { announce: false });
        void this.#refresh();
      }
      this.#scrollToEnd();
    } catch (error) {
      if (generation !== this.#generation) return;
      this.#status.textContent = '';
      if (!SIGNED_OUT.has(errorCode(error) ?? '')) this.#error.textContent = describeError(error, 'send');
    } finally {
      if (generation === this.#generation) {
        this.#sending = false;
        this.#send.removeAttribute('aria-disabled');
      }
    }
  }

  connectedCallback(): void {
    this.#bind();
  }

  disconnectedCallback(): void {
    this.#unbind();
  }

  attributeChangedCallback(name: string, oldValue: string | null, newValue: string | null): void {
    if (name !== 'open' || (oldValue === null) === (newValue === null)) return;
    const open = newValue !== null;
    if (open) this.#onOpen();
    else this.#stopWatching();
    this.dispatchEvent(new CustomEvent<PanelToggleDetail>('tabwarden-panel-toggle', { detail: { open } }));
  }

  // ---- internals ----

  #bind(): void {
    const tw = this.#tw;
    if (!tw || this.#listeners) return;
    const controller = new AbortController();
    this.#listeners = controller;
    const { signal } = controller;

    listen(tw, 'session-cleared', () => this.#clear(), signal);
    listen(
      tw,
      'session-started',
      ({ conversationId }) => {
        if (conversationId) this.#adoptConversation(conversationId);
      },
      signal,
    );
    listen(
      tw,
      'entries',
      ({ entries }) => {
        if (entries) this.#addEntries(entries, { announce: this.#historyLoaded });
      },
      signal,
    );
    listen(
      tw,
      'outbox',
      ({ messages }) => {
        if (messages) this.#showOutbox(messages);
      },
      signal,
    );
    listen(
      tw,
      'message-delivered',
      ({ entry }) => {
        if (entry) this.#addEntries([entry], { announce: false });
      },
      signal,
    );
    listen(tw, 'connectivity', () => this.#onNetworkChange(), signal);
    listen(
      tw,
      'identity-token-expired',
      ({ deadline }) => {
        if (typeof deadline === 'number') this.#startGrace(deadline);
      },
      signal,
    );
    // A valid token from any tab ends the wait and releases the waiting requests (R6, R9).
    listen(tw, 'identity-token-refreshed', () => this.#endGrace(true), signal);
    listen(tw, 'verified', () => this.#endGrace(true), signal);
    addEventListener('online', () => this.#onNetworkChange(), { signal });
    addEventListener('offline', () => this.#onNetworkChange(), { signal });
    document.addEventListener(
      'visibilitychange',
      () => {
        if (this.open && document.visibilityState === 'visible') void this.#refresh();
      },
      { signal },
    );
    if (tw.state.conversationId) this.#adoptConversation(tw.state.conversationId);
    if (this.open) this.#onOpen();
  }

  #unbind(): void {
    this.#listeners?.abort();
    this.#listeners = undefined;
    this.#stopWatching();
    this.#stopGraceTimer();
  }

  #onOpen(): void {
    const tw = this.#tw;
    if (!tw) return;
    if (!tw.state.verified) {
      this.removeAttribute('open');
      return;
    }
    this.#onNetworkChange();
    const deadline = tw.state.graceDeadline;
    if (deadline !== undefined && deadline > Date.now()) this.#startGrace(deadline);
    this.#startWatching();
    // Opening the conversation is an interaction (R6): always ask, the worker answers at once
    // when the session is already up.
    this.#start().catch(() => undefined);
  }

  #ensureStarted(): Promise<void> {
    if (this.#conversationId) return Promise.resolve();
    return this.#start();
  }

  /** Starts or resumes the session; one call in flight at a time. */
  #start(): Promise<void> {
    const generation = this.#generation;
    // A clear forgets this run (#reset); when it ends later it must not forget a newer one.
    this.#starting ??= this.#startOnce().finally(() => {
      if (generation === this.#generation) this.#starting = undefined;
    });
    return this.#starting;
  }

  async #startOnce(): Promise<void> {
    const tw = this.#tw;
    if (!tw) return;
    const generation = this.#generation;
    const firstStart = !this.#conversationId;
    if (firstStart) this.#status.textContent = 'Starting the conversation…';
    try {
      const { conversationId } = await tw.startConversation();
      if (generation !== this.#generation) return;
      if (firstStart && this.#status.textContent === 'Starting the conversation…')
        this.#status.textContent = '';
      this.#adoptConversation(conversationId);
      await Promise.all([this.#refresh(), this.#loadOutbox()]);
    } catch (error) {
      if (generation !== this.#generation) return;
      if (firstStart) this.#status.textContent = '';
      // Offline, the session the worker already holds still shows its cached history and its
      // outbox (R12).
      if (!this.#conversationId && tw.state.conversationId) this.#adoptConversation(tw.state.conversationId);
      if (this.#conversationId) void this.#loadOutbox();
      if (!SIGNED_OUT.has(errorCode(error) ?? '')) this.#error.textContent = describeError(error, 'start');
      throw error;
    }
  }

  #adoptConversation(conversationId: string): void {
    if (conversationId === this.#conversationId) return;
    this.#conversationId = conversationId;
    this.#entries.clear();
    this.#outbox = [];
    this.#historyLoaded = false;
    this.#log.replaceChildren();
    this.#updateEmpty();
    if (this.open) void this.#refresh();
  }

  /** Fetches entries after the last one held; overlapping calls fold into one more round. */
  #refresh(): Promise<void> {
    const tw = this.#tw;
    if (!tw || !this.#conversationId) return Promise.resolve();
    if (this.#refreshing) {
      this.#refreshAgain = true;
      return this.#refreshing;
    }
    const generation = this.#generation;
    const run = async () => {
      try {
        do {
          this.#refreshAgain = false;
          const entries = await tw.listEntries(this.#entries.lastSeq);
          if (generation !== this.#generation) return;
          this.#addEntries(entries, { announce: this.#historyLoaded });
          this.#historyLoaded = true;
          if (this.#status.dataset.source === 'load') this.#setStatus('');
        } while (this.#refreshAgain);
      } catch (error) {
        if (generation !== this.#generation || SIGNED_OUT.has(errorCode(error) ?? '')) return;
        // A failed background load is not an alert: the status line says it quietly.
        this.#setStatus(describeError(error, 'load'), 'load');
      } finally {
        // As in #start: a run from before a clear must not forget a newer one when it ends.
        if (generation === this.#generation) this.#refreshing = undefined;
      }
    };
    this.#refreshing = run();
    return this.#refreshing;
  }

  #setStatus(text: string, source?: 'load'): void {
    this.#status.textContent = text;
    if (source) this.#status.dataset.source = source;
    else delete this.#status.dataset.source;
  }

  #addEntries(entries: readonly ConversationEntry[], { announce }: { announce: boolean }): void {
    const mine = entries.filter((entry) => entry.conversationId === this.#conversationId);
    const added = this.#entries.merge(mine);
    if (added.length === 0) return;
    const nearEnd = this.#log.scrollHeight - this.#log.scrollTop - this.#log.clientHeight < 48;
    // Stored entries go before the outbox's messages, which stay last.
    const firstQueued = this.#log.querySelector(':scope > [data-key]');
    const last = (
      firstQueued ? firstQueued.previousElementSibling : this.#log.lastElementChild
    ) as HTMLElement | null;
    const inOrder = !last || Number(last.dataset.seq) < added[0]!.seq;
    const toRender = inOrder ? added : this.#entries.all();
    if (!inOrder) this.#log.replaceChildren();
    for (const entry of toRender) {
      const item = renderEntry(entry);
      item.dataset.seq = String(entry.seq);
      this.#log.insertBefore(item, inOrder ? firstQueued : null);
    }
    // A stored message is no longer waiting: it may arrive from the stream before the outbox says so.
    // #showOutbox drops what is stored now, and puts the waiting ones back after the entries.
    const stored = new Set(added.map((entry) => entry.clientMessageId));
    if (!inOrder || this.#outbox.some((message) => stored.has(message.clientMessageId))) {
      this.#showOutbox(this.#outbox);
    }
    this.#updateEmpty();
    if (nearEnd || added.some((entry) => entry.role === 'user')) this.#scrollToEnd();
    if (announce) {
      for (const entry of added) {
        if (entry.role !== 'user') this.#announce(`${SPEAKER[entry.role]}: ${entry.text}`);
      }
    }
  }

  /** Fetches the outbox; its `outbox` events keep it current from then on. */
  async #loadOutbox(): Promise<void> {
    const tw = this.#tw;
    if (!tw || !this.#conversationId) return;
    const generation = this.#generation;
    try {
      const messages = await tw.listOutbox();
      if (generation === this.#generation) this.#showOutbox(messages);
    } catch {
      // Best effort: the next `outbox` event brings it.
    }
  }

  /** Shows the outbox's messages of this conversation after the stored entries. */
  #showOutbox(messages: readonly OutboxMessage[]): void {
    const stored = new Set(this.#entries.all().map((entry) => entry.clientMessageId));
    this.#outbox = messages.filter(
      (message) => message.conversationId === this.#conversationId && !stored.has(message.clientMessageId),
    );
    // Keyed by id and state, and only what changed is touched: a keyboard user's focus on a
    // Retry button survives another message being delivered or discarded.
    const keyOf = (message: OutboxMessage) =>
      `${message.clientMessageId} ${message.status} ${message.error?.code ?? ''}`;
    const shown = new Map<string, HTMLElement>();
    for (const item of this.#log.querySelectorAll<HTMLElement>(':scope > [data-key]')) {
      shown.set(item.dataset.key!, item);
    }
    const wanted = new Set(this.#outbox.map(keyOf));
    for (const [key, item] of shown) if (!wanted.has(key)) item.remove();
    let previous: Element | undefined;
    for (const message of this.#outbox) {
      const key = keyOf(message);
      let item = shown.get(key);
      if (!item) {
        item = renderOutboxMessage(message, {
          retry: (id) => void this.#act((tw) => tw.retryMessage(id)),
          discard: (id) => void this.#act((tw) => tw.discardMessage(id)),
        });
        item.dataset.key = key;
        const firstQueued = this.#log.querySelector(':scope > [data-key]');
        if (previous) previous.after(item);
        else if (firstQueued) firstQueued.before(item);
        else this.#log.append(item);
      }
      previous = item;
    }
    this.#updateEmpty();
  }

  /** A retry or discard; the outcome arrives as `outbox` / `message-delivered` events. */
  async #act(action: (tw: TabwardenLike) => Promise<void>): Promise<void> {
    const tw = this.#tw;
    if (!tw) return;
    const generation = this.#generation;
    this.#error.textContent = '';
    try {
      await action(tw);
    } catch (error) {
      if (generation === this.#generation && !SIGNED_OUT.has(errorCode(error) ?? '')) {
        this.#error.textContent = describeError(error, 'send');
      }
    }
    await this.#loadOutbox();
    // The button pressed went with its message: focus goes to the message box, not the page.
    if (this.open && !this.shadowRoot?.activeElement) this.#input.focus();
  }

  #scrollToEnd(): void {
    this.#log.scrollTop = this.#log.scrollHeight;
  }

  #updateEmpty(): void {
    this.#empty.hidden = this.#entries.size + this.#outbox.length > 0 || !this.#historyLoaded;
  }

  /** Adds a line to the polite live region; a new node is announced even if the text repeats. */
  #announce(text: string): void {
    this.#announcer.append(h('p', {}, text));
    while (this.#announcer.childElementCount > 3) this.#announcer.firstElementChild?.remove();
  }

  #startGrace(deadline: number): void {
    if (!this.#tw?.state.verified) return;
    const isNew = this.#graceDeadline !== deadline;
    this.#graceDeadline = deadline;
    this.#graceBanner.hidden = false;
    this.#renderGrace();
    if (isNew && this.open)
      this.#announce('Your sign-in has expired. Waiting for a new sign-in to continue.');
    this.#stopGraceTimer();
    this.#graceTimer = setInterval(() => this.#renderGrace(), 1000);
  }

  #renderGrace(): void {
    if (this.#graceDeadline === undefined) return;
    const seconds = Math.max(0, Math.ceil((this.#graceDeadline - Date.now()) / 1000));
    this.#graceBanner.textContent =
      seconds > 0
        ? `Your sign-in has expired. Waiting for a new sign-in to continue: ${seconds} s left.`
        : 'Your sign-in has expired and no new one arrived in time. The conversation is closing.';
    if (seconds === 0) this.#stopGraceTimer();
  }

  #endGrace(renewed: boolean): void {
    if (this.#graceDeadline === undefined) return;
    this.#graceDeadline = undefined;
    this.#stopGraceTimer();
    this.#graceBanner.hidden = true;
    this.#graceBanner.textContent = '';
    if (renewed && this.open) {
      this.#announce('Signed in again. Continuing.');
      void this.#refresh();
    }
  }

  #stopGraceTimer(): void {
    clearInterval(this.#graceTimer);
    this.#graceTimer = undefined;
  }

  #onNetworkChange(): void {
    // The browser's word, or the worker's: its requests failing is proof enough (R12).
    const offline = !navigator.onLine || this.#tw?.online === false;
    const changed = this.#offlineBanner.hidden === offline;
    this.#offlineBanner.hidden = !offline;
    if (!offline && changed && this.open) void this.#refresh();
  }

  #startWatching(): void {
    this.#stopWatching();
    // Agent replies and other tabs' messages arrive from the worker's one live stream (R12).
    this.#endWatch = this.#tw?.watchEntries(this.#entries.lastSeq);
  }

  #stopWatching(): void {
    this.#endWatch?.();
    this.#endWatch = undefined;
  }

  /** The session is gone (R7, R8): nothing of it may stay on screen, the draft included. */
  #clear(): void {
    this.hide();
    this.#reset();
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
    this.#log.replaceChildren();
    this.#announcer.replaceChildren();
    this.#input.value = '';
    this.#error.textContent = '';
    this.#setStatus('');
    this.#send.removeAttribute('aria-disabled');
    this.#endGrace(false);
    this.#updateEmpty();
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'tabwarden-chat-panel': TabwardenChatPanel;
  }
}
