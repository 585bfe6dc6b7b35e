// Constructable stylesheets: styles without <style> elements or style attributes, so a CSP of
// `style-src 'self'` (or `default-src 'self'`) holds. Supported by every current engine
// (Safari since 16.4).

/** A lazily built stylesheet, shared by every instance of an element. */
export function lazyStyleSheet(cssText: string): () => CSSStyleSheet {
  let sheet: CSSStyleSheet | undefined;
  return () => {
    if (!sheet) {
      sheet = new CSSStyleSheet();
      sheet.replaceSync(cssText);
    }
    return sheet;
  };
}
