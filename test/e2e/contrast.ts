// WCAG 2 contrast of text as Chromium renders it: the element's computed `color` against the
// first opaque-enough background behind it, walking out of shadow roots through their hosts.
import type { Locator } from '@playwright/test';

/** The colours an element's text is drawn with, as sRGB channels 0–255 and alpha 0–1. */
export interface RenderedColours {
  text: [number, number, number, number];
  /** The backgrounds from the element outwards, up to the first opaque one. */
  backgrounds: [number, number, number, number][];
}

/** Reads the computed colours of `locator` (which may be inside a shadow root). */
export function renderedColours(locator: Locator): Promise<RenderedColours> {
  return locator.evaluate((element) => {
    // Chromium serialises computed colours as rgb()/rgba(), or color(srgb …) after color-mix().
    const parse = (value: string): [number, number, number, number] => {
      const srgb = /^color\(srgb ([\d.e-]+) ([\d.e-]+) ([\d.e-]+)(?: \/ ([\d.e-]+))?\)$/.exec(value);
      if (srgb) {
        const [r, g, b] = [srgb[1], srgb[2], srgb[3]].map((c) => Number(c) * 255);
        return [r!, g!, b!, srgb[4] === undefined ? 1 : Number(srgb[4])];
      }
      const rgb = /^rgba?\(([\d.]+), ([\d.]+), ([\d.]+)(?:, ([\d.]+))?\)$/.exec(value);
      if (!rgb) throw new Error(`unexpected computed colour ${value}`);
      return [Number(rgb[1]), Number(rgb[2]), Number(rgb[3]), rgb[4] === undefined ? 1 : Number(rgb[4])];
    };
    const backgrounds: [number, number, number, number][] = [];
    let node: Element | null = element;
    while (node) {
      const background = parse(getComputedStyle(node).backgroundColor);
      if (background[3] > 0) backgrounds.push(background);
      if (background[3] >= 1) break;
      node = node.parentElement ?? ((node.getRootNode() as ShadowRoot).host || null);
    }
    return { text: parse(getComputedStyle(element).color), backgrounds };
  });
}

/** Composites `top` over an opaque `bottom`. */
function over(top: number[], bottom: number[]): number[] {
  const alpha = top[3]!;
  return [0, 1, 2].map((i) => top[i]! * alpha + bottom[i]! * (1 - alpha));
}

function luminance([r, g, b]: number[]): number {
  const linear = (channel: number) => {
    const c = channel / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * linear(r!) + 0.7152 * linear(g!) + 0.0722 * linear(b!);
}

/**
 * The WCAG 2 contrast ratio (1–21) of the rendered text. Without any opaque background the
 * page's canvas is taken as white, as a browser draws it in light mode.
 */
export function contrastRatio({ text, backgrounds }: RenderedColours): number {
  let background = [255, 255, 255];
  for (const layer of [...backgrounds].reverse()) background = over(layer, background);
  const foreground = over(text, background);
  const [light, dark] = [luminance(foreground), luminance(background)].sort((a, b) => b - a);
  return (light! + 0.05) / (dark! + 0.05);
}
