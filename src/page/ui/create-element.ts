// Builds shadow DOM with createElement rather than innerHTML: no HTML parsing, so the UI also
// works under Trusted Types (`require-trusted-types-for 'script'`). Never sets `style`: a strict
// CSP refuses style attributes; styling lives in adopted stylesheets.

type AttributeValue = string | number | true;

/** Creates an element with attributes (`true`: present, with no value) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, AttributeValue> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    element.setAttribute(name, value === true ? '' : String(value));
  }
  element.append(...children);
  return element;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** A decorative 24x24 icon from one path; hidden from assistive technology. */
export function icon(pathData: string, part: string): SVGSVGElement {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.setAttribute('part', part);
  const path = document.createElementNS(SVG_NS, 'path');
  path.setAttribute('d', pathData);
  svg.append(path);
  return svg;
}
