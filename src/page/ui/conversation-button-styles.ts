import { lazyStyleSheet } from './create-style-sheet.ts';
import { THEME_CSS } from './theme-css.ts';

/** The conversation button's stylesheet. Parts: `button`, `icon`, `label`. */
export const conversationButtonStyleSheet = lazyStyleSheet(`${THEME_CSS}
:host {
  display: inline-block;
}
:host([floating]) {
  inset-block-end: var(--_offset);
}
button {
  display: inline-flex;
  align-items: center;
  gap: 0.5rem;
  min-block-size: 2.75rem;
  padding: 0.625rem 1.125rem;
  border: 1px solid transparent;
  border-radius: 999px;
  background: var(--_accent);
  color: var(--_on-accent);
  font-weight: 600;
  line-height: 1.2;
  box-shadow: var(--_shadow);
}
button:hover {
  filter: brightness(1.08);
}
button:focus-visible {
  outline: 3px solid var(--_focus);
  outline-offset: 3px;
}
button[aria-expanded='true'] {
  filter: saturate(0.8);
}
svg {
  flex: none;
}
@media (forced-colors: active) {
  button {
    border-color: ButtonText;
  }
}
`);
