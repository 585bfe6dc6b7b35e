import type { ConversationEntry, OutboxMessage } from '../../core/protocol.ts';
import { chatPanelStyleSheet } from './chat-panel-styles.ts';
import { ConversationController, type ConversationState } from './conversation-controller.ts';
import { h, icon } from './create-element.ts';
import { ElementBase } from './element-base.ts';
import { renderEntry } from './render-entry.ts';
import { renderOutboxMessage } from './render-outbox-message.ts';
import type { TabwardenLike } from './tabwarden-like.ts';

const CLOSE_ICON =
  'M18.3 5.71 12 12l6.3 6.29-1.41 1.42L10.59 13.4 4.3 19.71 2.88 18.3 9.17 12 2.88 5.71 4.3 4.29l6.29 6.3 6.3-6.3z';

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
  /** The conversation itself: this element only shows it. */
  #conversation: ConversationController | undefined;
  #listeners: AbortController | undefined;
  /** The entries in the log, as last rendered: new ones are appended, not the whole log. */
  #shown: readonly ConversationEntry[] = [];
  #returnFocus: HTMLElement | undefined;
  /**
   * The reader is at the end of the log, so new entries keep it there. Kept by the log's scroll
   * events rather than read at each render: a layout read after a change forces a layout, per
   * entry and per tab, where the next frame lays out once.
   */
  #atEnd = true;
  /**
   * Where the panel last scrolled the log to its end: entries that arrive before that scroll's
   * event make the end look farther, but the reader has not moved back from it.
   */
  #scrolledTo = Infinity;
  #scrollScheduled = false;

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

    this.#log.addEventListener(
      'scroll',
      () => {
        const log = this.#log;
        this.#atEnd =
          log.scrollHeight - log.scrollTop - log.clientHeight < 48 || log.scrollTop >= this.#scrolledTo;
        if (!this.#atEnd) this.#scrolledTo = Infinity;
      },
      { passive: true },
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
    // Forgetting the old conversation shows an empty one; its answers still in flight are dropped.
    this.#conversation?.dispose();
    this.#forget();
    this.#tw = tw;
    this.#conversation =
      tw &&
      new ConversationController(tw, {
        render: (state) => this.#render(state),
        announce: (text) => this.#announce(text),
        // The session is gone (R7, R8): nothing of it may stay on screen, the draft included.
        cleared: () => {
          this.hide();
          this.#forget();
        },
        online: () => navigator.onLine,
      });
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
    const text = this.#input.value.trim();
    if (!text || !(await this.#conversation?.send(text))) return;
    // Clear the box only if it still holds what was sent: typing on meanwhile is kept.
    if (this.#input.value.trim() === text) this.#input.value = '';
    this.#scrollToEnd();
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
    else this.#conversation?.close();
    this.dispatchEvent(new CustomEvent<PanelToggleDetail>('tabwarden-panel-toggle', { detail: { open } }));
  }

  // ---- internals ----

  #bind(): void {
    const conversation = this.#conversation;
    if (!conversation || this.#listeners) return;
    this.#listeners = new AbortController();
    const { signal } = this.#listeners;
    conversation.connect();
    addEventListener('online', () => conversation.networkChanged(), { signal });
    addEventListener('offline', () => conversation.networkChanged(), { signal });
    document.addEventListener(
      'visibilitychange',
      () => {
        if (this.open && document.visibilityState === 'visible') void conversation.refresh();
      },
      { signal },
    );
    if (this.open) this.#onOpen();
  }

  #unbind(): void {
    this.#listeners?.abort();
    this.#listeners = undefined;
    this.#conversation?.disconnect();
  }

  #onOpen(): void {
    if (!this.#tw?.state.verified) this.removeAttribute('open');
    else void this.#conversation?.open();
  }

  /** Shows the conversation's state; only what changed is touched. */
  #render(state: ConversationState): void {
    const { entries, outbox } = state;
    const log = this.#log;
    const shown = this.#shown;
    // Entries only join (the store merges them); one that sorts before those shown redraws the log.
    const inOrder = entries.length >= shown.length && entries[shown.length - 1] === shown.at(-1);
    const added = inOrder ? entries.slice(shown.length) : entries.filter((entry) => !shown.includes(entry));
    if (!inOrder) log.replaceChildren();
    // Stored entries go before the outbox's messages, which stay last.
    const firstQueued = log.querySelector(':scope > [data-key]');
    for (const entry of inOrder ? added : entries) log.insertBefore(renderEntry(entry), firstQueued);
    this.#shown = entries;
    this.#renderOutbox(outbox);
    this.#empty.hidden = entries.length + outbox.length > 0 || !state.loaded;
    // The reader's own send scrolls to the end itself (send()); another tab's message does not.
    if (added.length && this.#atEnd) this.#scrollToEndSoon();

    setText(this.#status, state.status);
    setText(this.#error, state.error);
    if (state.sending) this.#send.setAttribute('aria-disabled', 'true');
    else this.#send.removeAttribute('aria-disabled');
    const seconds = state.graceLeft;
    this.#graceBanner.hidden = seconds === undefined;
    setText(
      this.#graceBanner,
      seconds === undefined
        ? ''
        : seconds > 0
          ? `Your sign-in has expired. Waiting for a new sign-in to continue: ${seconds} s left.`
          : 'Your sign-in has expired and no new one arrived in time. The conversation is closing.',
    );
    this.#offlineBanner.hidden = !state.offline;
  }

  /** Shows the outbox's messages after the stored entries. */
  #renderOutbox(messages: readonly OutboxMessage[]): void {
    // Keyed by id and state, and only what changed is touched: a keyboard user's focus on a
    // Retry button survives another message being delivered or discarded.
    const keyOf = (message: OutboxMessage) =>
      `${message.clientMessageId} ${message.status} ${message.error?.code ?? ''}`;
    const shown = new Map<string, HTMLElement>();
    for (const item of this.#log.querySelectorAll<HTMLElement>(':scope > [data-key]')) {
      shown.set(item.dataset.key!, item);
    }
    const wanted = new Set(messages.map(keyOf));
    for (const [key, item] of shown) if (!wanted.has(key)) item.remove();
    let previous: Element | undefined;
    for (const message of messages) {
      const key = keyOf(message);
      let item = shown.get(key);
      if (!item) {
        item = renderOutboxMessage(message, {
          retry: (id) => void this.#conversation?.retry(id).then(() => this.#refocus()),
          discard: (id) => void this.#conversation?.discard(id).then(() => this.#refocus()),
        });
        item.dataset.key = key;
        // After the message before it; the first before those still shown (none: at the end).
        if (previous) previous.after(item);
        else this.#log.insertBefore(item, this.#log.querySelector(':scope > [data-key]'));
      }
      previous = item;
    }
  }

  /** The button pressed went with its message: focus goes to the message box, not the page. */
  #refocus(): void {
    if (this.open && !this.shadowRoot?.activeElement) this.#input.focus();
  }

  #scrollToEnd(): void {
    const log = this.#log;
    log.scrollTop = log.scrollHeight;
    this.#scrolledTo = log.scrollTop;
    this.#atEnd = true;
  }

  /**
   * Scrolls to the end in the next frame, once however many entries arrive before it, unless the
   * reader scrolled away meanwhile (a frame runs its scroll events before its animation frames).
   */
  #scrollToEndSoon(): void {
    if (this.#scrollScheduled) return;
    this.#scrollScheduled = true;
    requestAnimationFrame(() => {
      this.#scrollScheduled = false;
      if (this.#atEnd) this.#scrollToEnd();
    });
  }

  /** Adds a line to the polite live region; a new node is announced even if the text repeats. */
  #announce(text: string): void {
    this.#announcer.append(h('p', {}, text));
    while (this.#announcer.childElementCount > 3) this.#announcer.firstElementChild?.remove();
  }

  /** Forgets what belongs to the element, not the conversation: the draft and the announcements. */
  #forget(): void {
    this.#input.value = '';
    this.#announcer.replaceChildren();
  }
}

/** Live regions may read a text again when it is set again: only a change is written. */
function setText(element: HTMLElement, text: string): void {
  if (element.textContent !== text) element.textContent = text;
}

declare global {
  interface HTMLElementTagNameMap {
    'tabwarden-chat-panel': TabwardenChatPanel;
  }
}
