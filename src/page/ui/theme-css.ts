// The public CSS custom properties (documented in README.md), resolved once per element into
// private `--_*` names so every rule below reads one variable. Colours follow the page's
// `color-scheme` through light-dark() and system colours; forced-colours mode keeps borders.
// Notes on the rules live in these comments, not in the CSS: a CSS comment is string content
// and ships in the bundle. --_muted is over 5:1 on both bubbles in both schemes: times are
// small text (test/e2e/portal.spec.ts).

/** The rules every tabwarden element shares: its theme, `floating`, buttons, icons, `.sr-only`. */
export const THEME_CSS = `
:host {
  --_font: var(--tabwarden-font, inherit);
  --_accent: var(--tabwarden-accent, light-dark(#0b57d0, #a8c7fa));
  --_on-accent: var(--tabwarden-on-accent, light-dark(#ffffff, #062e6f));
  --_surface: var(--tabwarden-surface, Canvas);
  --_text: var(--tabwarden-text, CanvasText);
  --_muted: var(--tabwarden-muted, light-dark(#545a60, #c7cacf));
  --_border: var(--tabwarden-border, light-dark(#c4c7c5, #5f6368));
  --_user-bubble: var(--tabwarden-user-bubble, light-dark(#d3e3fd, #0842a0));
  --_agent-bubble: var(--tabwarden-agent-bubble, light-dark(#f1f3f4, #303134));
  --_warning: var(--tabwarden-warning, light-dark(#fef7e0, #4d3a00));
  --_danger: var(--tabwarden-danger, light-dark(#b3261e, #f2b8b5));
  --_focus: var(--tabwarden-focus, var(--_accent));
  --_radius: var(--tabwarden-radius, 0.75rem);
  --_offset: var(--tabwarden-offset, 1.25rem);
  --_z: var(--tabwarden-z-index, 2147480000);
  --_shadow: var(--tabwarden-shadow, 0 0.25rem 1.5rem rgb(0 0 0 / 0.18));
  font-family: var(--_font);
}
*,
*::before,
*::after {
  box-sizing: border-box;
}
:host([hidden]),
[hidden] {
  display: none !important;
}
:host([floating]) {
  position: fixed;
  inset-inline-end: var(--_offset);
  z-index: var(--_z);
}
button {
  font: inherit;
  cursor: pointer;
}
svg {
  inline-size: 1.25rem;
  block-size: 1.25rem;
  fill: currentColor;
}
.sr-only {
  position: absolute;
  inline-size: 1px;
  block-size: 1px;
  margin: -1px;
  padding: 0;
  overflow: hidden;
  clip-path: inset(50%);
  white-space: nowrap;
  border: 0;
}
`;
