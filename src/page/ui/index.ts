// tabwarden/ui: the conversation button and chat panel as custom elements. Its own bundle
// (/bundles/tabwarden-ui.js), so the page stub stays small. Re-exports, plus one side effect:
// autoMount() picks up the script-tag facade's client; it does nothing on pages without it.
import { autoMount } from './auto-mount.ts';

export { autoMount, MOUNT_ATTRIBUTE } from './auto-mount.ts';
export { TabwardenChatPanel } from './chat-panel.ts';
export type { PanelToggleDetail } from './chat-panel.ts';
export { TabwardenConversationButton, BUTTON_CREATED_EVENT } from './conversation-button.ts';
export { defineTabwardenElements, ELEMENT_NAMES } from './define-tabwarden-elements.ts';
export { mountTabwardenUI } from './mount-tabwarden-ui.ts';
export type { MountedTabwardenUI } from './mount-tabwarden-ui.ts';
export type { TabwardenLike } from './tabwarden-like.ts';
export type { TabwardenEventMap } from '../tabwarden.ts';

autoMount();
