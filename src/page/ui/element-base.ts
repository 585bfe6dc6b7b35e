/**
 * `HTMLElement`, or a stand-in class where there is none (Node: server-side rendering, a Node
 * test environment), so that importing tabwarden/ui there throws nothing. The elements themselves
 * work only in a browser.
 */
export const ElementBase: typeof HTMLElement =
  globalThis.HTMLElement ?? (class {} as unknown as typeof HTMLElement);
