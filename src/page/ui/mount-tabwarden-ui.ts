import type { TabwardenChatPanel } from './chat-panel.ts';
import type { TabwardenConversationButton } from './conversation-button.ts';
import { defineTabwardenElements, ELEMENT_NAMES } from './define-tabwarden-elements.ts';
import type { TabwardenLike } from './tabwarden-like.ts';

/** What {@link mountTabwardenUI} put on the page. */
export interface MountedTabwardenUI {
  button: TabwardenConversationButton;
  panel: TabwardenChatPanel;
  /** Removes both elements and their listeners. */
  unmount(): void;
}

// One UI per client: mounting again (say, autoMount after a manual mount) moves, never doubles.
const mounted = new WeakMap<TabwardenLike, MountedTabwardenUI>();

/**
 * Puts the conversation button and its chat panel into `container` for the client `tw`. In
 * `document.body` (the default) both float in the viewport's bottom corner; elsewhere they sit
 * in the container's flow. Mounting the same client again moves its UI to the new container.
 *
 * @example
 * ```ts
 * import { createTabwarden } from 'tabwarden';
 * import { mountTabwardenUI } from 'tabwarden/ui';
 *
 * const tw = await createTabwarden({ worker: { issuer, jwksUrl, serverUrl } });
 * const ui = mountTabwardenUI(tw, document.querySelector('#support')!);
 * await tw.setIdentityToken(identityToken); // the button appears now (R3)
 * // ui.unmount() takes it away again
 * ```
 */
export function mountTabwardenUI(tw: TabwardenLike, container: Element = document.body): MountedTabwardenUI {
  defineTabwardenElements();
  const floating = container === document.body;
  const existing = mounted.get(tw);
  if (existing) {
    for (const element of [existing.button, existing.panel]) {
      element.toggleAttribute('floating', floating);
      // Re-appending would disconnect and reconnect the element (and drop its focus).
      if (element.parentNode !== container) container.append(element);
    }
    return existing;
  }

  const button = document.createElement(ELEMENT_NAMES.conversationButton);
  const panel = document.createElement(ELEMENT_NAMES.chatPanel);
  button.toggleAttribute('floating', floating);
  panel.toggleAttribute('floating', floating);
  button.tabwarden = tw;
  button.panel = panel;
  container.append(button, panel);

  const ui: MountedTabwardenUI = {
    button,
    panel,
    unmount() {
      button.remove();
      panel.remove();
      mounted.delete(tw);
    },
  };
  mounted.set(tw, ui);
  return ui;
}
