import type { PanelToggleDetail, TabwardenChatPanel } from './chat-panel.ts';
import { conversationButtonStyleSheet } from './conversation-button-styles.ts';
import { h, icon } from './create-element.ts';
import { ElementBase } from './element-base.ts';
import { listen, type TabwardenLike } from './tabwarden-like.ts';

const CHAT_ICON =
  'M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8.4L4 21.5V18a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zm3 5v2h10V9H7zm0 4v2h7v-2H7z';

/** The window event the seed's client dispatches when its button appears. */
export const BUTTON_CREATED_EVENT = 'onEmbeddedMessagingButtonCreated';

/**
 * `<tabwarden-conversation-button>`: the button that opens the conversation. It shows only in
 * a tab that has itself presented a valid identity token (R3) and disappears when the session
 * is cleared in any tab (R7). Each time it appears for a verification it dispatches
 * `onEmbeddedMessagingButtonCreated` on `window`, as the seed's client does. A click starts or
 * resumes the conversation (R4) and toggles its chat panel.
 *
 * The panel is the `panel` property; without one, the first click creates a
 * `<tabwarden-chat-panel>` right after the button. Attribute `floating` pins the button to the
 * viewport's bottom corner. Default slot: the label ("Chat with us"). Parts: `button`, `icon`,
 * `label`.
 *
 * @example
 * ```ts
 * defineTabwardenElements();
 * const button = document.createElement('tabwarden-conversation-button');
 * button.tabwarden = tw;
 * button.textContent = 'Ask us anything';
 * document.querySelector('header')!.append(button);
 * ```
 */
export class TabwardenConversationButton extends ElementBase {
  #tw: TabwardenLike | undefined;
  #panel: TabwardenChatPanel | undefined;
  #listeners: AbortController | undefined;
  #panelListener: AbortController | undefined;
  /** Whether `onEmbeddedMessagingButtonCreated` went out for the current verification. */
  #announced = false;
  readonly #button: HTMLButtonElement;

  constructor() {
    super();
    // delegatesFocus: focusing the host (as the panel does on close) focuses the inner button.
    const root = this.attachShadow({ mode: 'open', delegatesFocus: true });
    root.adoptedStyleSheets = [conversationButtonStyleSheet()];
    this.#button = h(
      'button',
      { type: 'button', part: 'button', 'aria-expanded': 'false', 'aria-haspopup': 'dialog' },
      icon(CHAT_ICON, 'icon'),
      h('span', { part: 'label' }, h('slot', {}, 'Chat with us')),
    );
    this.#button.addEventListener('click', () => this.toggle());
    root.append(this.#button);
  }

  /** The client. Setting it rebinds the button. */
  get tabwarden(): TabwardenLike | undefined {
    return this.#tw;
  }

  set tabwarden(tw: TabwardenLike | undefined) {
    if (tw === this.#tw) return;
    this.#unbind();
    this.#tw = tw;
    this.#announced = false;
    if (this.#panel) this.#panel.tabwarden = tw;
    if (this.isConnected) this.#bind();
  }

  /** The chat panel this button opens. */
  get panel(): TabwardenChatPanel | undefined {
    return this.#panel;
  }

  set panel(panel: TabwardenChatPanel | undefined) {
    this.#panelListener?.abort();
    this.#panel = panel;
    if (!panel) return;
    if (this.#tw) panel.tabwarden = this.#tw;
    this.#panelListener = new AbortController();
    panel.addEventListener(
      'tabwarden-panel-toggle',
      (event) => this.#syncExpanded((event as CustomEvent<PanelToggleDetail>).detail.open),
      { signal: this.#panelListener.signal },
    );
    // An element reference, not an id: ids do not cross shadow roots.
    this.#button.ariaControlsElements = [panel];
    this.#syncExpanded(panel.open);
  }

  /** Opens the panel (starting the conversation) or closes it. */
  toggle(): void {
    if (!this.#tw?.state.verified) return;
    const panel = this.#panel ?? this.#createPanel();
    if (panel.open) panel.hide();
    else panel.show({ returnFocusTo: this });
  }

  connectedCallback(): void {
    this.#bind();
  }

  disconnectedCallback(): void {
    this.#unbind();
  }

  // ---- internals ----

  #bind(): void {
    const tw = this.#tw;
    if (!tw || this.#listeners) {
      if (!tw) this.hidden = true;
      return;
    }
    this.#listeners = new AbortController();
    const { signal } = this.#listeners;
    listen(tw, 'verified', () => this.#render(), signal);
    listen(tw, 'ready', () => this.#render(), signal);
    listen(tw, 'session-cleared', () => this.#render(), signal);
    this.#render();
  }

  #unbind(): void {
    this.#listeners?.abort();
    this.#listeners = undefined;
  }

  /** Shows the button exactly while the tab is verified. */
  #render(): void {
    const verified = this.#tw?.state.verified === true;
    this.hidden = !verified;
    if (!verified) {
      this.#announced = false;
      this.#panel?.hide();
      return;
    }
    if (!this.#announced) {
      this.#announced = true;
      dispatchEvent(new CustomEvent(BUTTON_CREATED_EVENT, { detail: {} }));
    }
  }

  #createPanel(): TabwardenChatPanel {
    const panel = document.createElement('tabwarden-chat-panel');
    panel.toggleAttribute('floating', this.hasAttribute('floating'));
    this.after(panel);
    this.panel = panel;
    return panel;
  }

  #syncExpanded(open: boolean): void {
    this.#button.setAttribute('aria-expanded', String(open));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'tabwarden-conversation-button': TabwardenConversationButton;
  }
}
