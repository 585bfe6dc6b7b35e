import { lazyStyleSheet } from './create-style-sheet.ts';
import { THEME_CSS } from './theme-css.ts';

/** The chat panel's stylesheet. Parts are listed in README.md. */
export const chatPanelStyleSheet = lazyStyleSheet(`${THEME_CSS}
:host {
  display: block;
  color: var(--_text);
}
:host(:not([open])) {
  display: none !important;
}
:host([floating]) {
  inset-block-end: calc(var(--_offset) + 3.75rem);
  inline-size: min(var(--tabwarden-panel-width, 24rem), calc(100vw - 2 * var(--_offset)));
}
.panel {
  position: relative;
  display: flex;
  flex-direction: column;
  block-size: min(var(--tabwarden-panel-height, 32rem), calc(100dvh - 8rem));
  min-block-size: 18rem;
  background: var(--_surface);
  color: var(--_text);
  border: 1px solid var(--_border);
  border-radius: var(--_radius);
  box-shadow: var(--_shadow);
  overflow: hidden;
}
.header {
  display: flex;
  align-items: center;
  justify-content: space-between;
  gap: 0.5rem;
  padding: 0.5rem 0.5rem 0.5rem 1rem;
  border-block-end: 1px solid var(--_border);
}
.title {
  margin: 0;
  font-size: 1rem;
  font-weight: 600;
}
button:focus-visible,
textarea:focus-visible,
.log:focus-visible {
  outline: 3px solid var(--_focus);
  outline-offset: -3px;
}
.close {
  display: inline-grid;
  place-items: center;
  inline-size: 2.5rem;
  block-size: 2.5rem;
  padding: 0;
  border: 0;
  border-radius: 50%;
  background: transparent;
  color: inherit;
}
.close:hover {
  background: color-mix(in srgb, currentColor 10%, transparent);
}
.banner {
  margin: 0;
  padding: 0.5rem 1rem;
  background: var(--_warning);
  border-block-end: 1px solid var(--_border);
  font-size: 0.875rem;
}
.body {
  position: relative;
  flex: 1;
  min-block-size: 0;
  display: flex;
  flex-direction: column;
}
.log {
  flex: 1;
  margin: 0;
  padding: 0.75rem 1rem;
  list-style: none;
  overflow-y: auto;
  display: flex;
  flex-direction: column;
  gap: 0.5rem;
}
.empty {
  position: absolute;
  inset: 0;
  display: grid;
  place-items: center;
  margin: 0;
  padding: 1rem;
  color: var(--_muted);
  text-align: center;
  pointer-events: none;
}
.entry {
  max-inline-size: 85%;
  padding: 0.5rem 0.75rem;
  border-radius: var(--_radius);
  background: var(--_agent-bubble);
  align-self: flex-start;
}
.entry.user {
  align-self: flex-end;
  background: var(--_user-bubble);
}
.entry.system {
  align-self: center;
  max-inline-size: 100%;
  background: transparent;
  color: var(--_muted);
  font-size: 0.8125rem;
  font-style: italic;
}
.text {
  margin: 0;
  white-space: pre-wrap;
  overflow-wrap: anywhere;
}
.time {
  display: block;
  margin-block-start: 0.125rem;
  color: var(--_muted);
  font-size: 0.75rem;
}
.user .time {
  text-align: end;
}
.entry.pending,
.entry.failed {
  border: 1px dashed var(--_muted);
}
.state {
  margin: 0.125rem 0 0;
  font-size: 0.75rem;
  text-align: end;
}
.pending .state {
  color: var(--_muted);
}
.failed .state {
  color: var(--_danger);
  font-weight: 600;
}
.actions {
  display: flex;
  justify-content: flex-end;
  gap: 0.5rem;
  margin-block-start: 0.375rem;
}
.action {
  min-block-size: 2rem;
  padding: 0 0.75rem;
  border: 1px solid currentColor;
  border-radius: calc(var(--_radius) * 0.5);
  background: transparent;
  color: inherit;
}
.status,
.error {
  margin: 0;
  padding: 0.375rem 1rem;
  font-size: 0.875rem;
}
.status {
  color: var(--_muted);
}
.error {
  color: var(--_danger);
  font-weight: 600;
}
.status:empty,
.error:empty {
  display: none;
}
.form {
  display: flex;
  align-items: flex-end;
  gap: 0.5rem;
  padding: 0.75rem;
  border-block-start: 1px solid var(--_border);
}
textarea {
  flex: 1;
  min-inline-size: 0;
  min-block-size: 2.75rem;
  max-block-size: 8rem;
  field-sizing: content;
  resize: none;
  padding: 0.625rem 0.75rem;
  border: 1px solid var(--_border);
  border-radius: calc(var(--_radius) * 0.75);
  background: Field;
  color: FieldText;
  font: inherit;
}
.send {
  min-block-size: 2.75rem;
  padding: 0 1rem;
  border: 1px solid transparent;
  border-radius: calc(var(--_radius) * 0.75);
  background: var(--_accent);
  color: var(--_on-accent);
  font-weight: 600;
}
.send[aria-disabled='true'] {
  opacity: 0.6;
  cursor: progress;
}
@media (forced-colors: active) {
  .entry,
  .send,
  .banner {
    border: 1px solid CanvasText;
  }
}
`);
