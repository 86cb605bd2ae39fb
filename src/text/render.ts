import type { Font } from "./font";
import { fillOutline } from "./rasterize";

/** One line of text as 8-bit coverage (row-major, 0 = empty, 255 = fully inked). */
export interface TextMask {
  readonly width: number;
  readonly height: number;
  readonly coverage: Uint8Array;
  /** Rows from the top of the mask to the baseline. */
  readonly baseline: number;
}

/**
 * Draws one line of text, `sizePx` pixels to the em. The mask spans the font's ascender to descender
 * and the sum of the advance widths; ink a glyph puts outside that box (a deep descender, an
 * overhanging italic) is clipped.
 */
export async function renderText(font: Font, text: string, sizePx: number): Promise<TextMask> {
  if (!(sizePx > 0) || !Number.isFinite(sizePx)) throw new RangeError(`Bad text size ${sizePx}.`);
  const scale = sizePx / font.unitsPerEm;
  // Code points, not UTF-16 units: a character beyond the BMP is one glyph, and a lone surrogate
  // has no glyph and draws as .notdef.
  const glyphs: number[] = [];
  let advance = 0;
  for (const character of text) {
    const glyph = font.glyphIndex(character.codePointAt(0) ?? 0);
    glyphs.push(glyph);
    advance += font.advanceWidth(glyph);
  }
  const ascent = font.ascender * scale;
  const height = Math.max(1, Math.ceil(ascent - font.descender * scale));
  const width = Math.max(1, Math.ceil(advance * scale));
  // A whole-pixel baseline puts flat glyph bottoms on a pixel edge, which keeps them crisp.
  const baseline = Math.min(height, Math.round(ascent));
  const outlines = await font.outlines(glyphs);
  const coverage = new Uint8Array(width * height);
  let pen = 0;
  for (const glyph of glyphs) {
    // The pen keeps its fraction: rounding each advance would make the spacing uneven.
    fillOutline(coverage, width, height, outlines.get(glyph) ?? [], { scale, dx: pen * scale, dy: baseline });
    pen += font.advanceWidth(glyph);
  }
  return { width, height, coverage, baseline };
}
