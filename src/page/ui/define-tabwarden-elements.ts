import { TabwardenChatPanel } from './chat-panel.ts';
import { TabwardenConversationButton } from './conversation-button.ts';

/** The custom element names tabwarden registers. */
export const ELEMENT_NAMES = {
  conversationButton: 'tabwarden-conversation-button',
  chatPanel: 'tabwarden-chat-panel',
} as const;

/**
 * Registers `<tabwarden-conversation-button>` and `<tabwarden-chat-panel>`. Safe to call more
 * than once; a name already taken (say, by a second copy of the bundle) is left alone.
 *
 * @example
 * ```ts
 * import { defineTabwardenElements } from 'tabwarden/ui';
 *
 * defineTabwardenElements();
 * document.querySelector('tabwarden-conversation-button')!.tabwarden = tw;
 * ```
 */
export function defineTabwardenElements(registry: CustomElementRegistry = customElements): void {
  if (!registry.get(ELEMENT_NAMES.chatPanel)) registry.define(ELEMENT_NAMES.chatPanel, TabwardenChatPanel);
  if (!registry.get(ELEMENT_NAMES.conversationButton)) {
    registry.define(ELEMENT_NAMES.conversationButton, TabwardenConversationButton);
  }
}
