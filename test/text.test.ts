import { describe, expect, it } from "vitest";
import { type Font, FontError, parseFont } from "../src/text/font";
import { renderText, type TextMask } from "../src/text/render";
import { fontFile } from "./helpers";

// DroidSansFallbackFull is CJK only (no Latin letters), so Latin text is drawn with wqy-microhei.
const files = new Map<string, Uint8Array>();
for (const name of ["droidsansfallback", "wqy-microhei", "wqy-zenhei"]) files.set(name, await fontFile(name));
function fontBytes(name: string): Uint8Array {
  return files.get(name) as Uint8Array;
}
const parsed = new Map<string, Font>();
function font(name: string): Font {
  let result = parsed.get(name);
  if (!result) {
    result = parseFont(fontBytes(name));
    parsed.set(name, result);
  }
  return result;
}

/** Coverage summed over a rectangle of the mask, [x0, x1) × [y0, y1). */
function ink(mask: TextMask, x0 = 0, x1 = mask.width, y0 = 0, y1 = mask.height): number {
  let sum = 0;
  for (let y = Math.max(0, y0); y < Math.min(mask.height, y1); y++) {
    for (let x = Math.max(0, x0); x < Math.min(mask.width, x1); x++) sum += mask.coverage[y * mask.width + x];
  }
  return sum;
}

/** Runs of inked columns, as [first, last] column pairs. */
function inkedColumnRuns(mask: TextMask): [number, number][] {
  const runs: [number, number][] = [];
  for (let x = 0; x < mask.width; x++) {
    if (ink(mask, x, x + 1) === 0) continue;
    const last = runs[runs.length - 1];
    if (last && last[1] === x - 1) last[1] = x;
    else runs.push([x, x]);
  }
  return runs;
}

/** Rows that hold any ink, as [first, last]. */
function inkedRows(mask: TextMask, x0 = 0, x1 = mask.width): [number, number] {
  let first = -1;
  let last = -1;
  for (let y = 0; y < mask.height; y++) {
    if (ink(mask, x0, x1, y, y + 1) > 0) {
      if (first < 0) first = y;
      last = y;
    }
  }
  return [first, last];
}

const penPositions = (f: Font, text: string, size: number) => {
  const scale = size / f.unitsPerEm;
  const positions = [0];
  for (const character of text) {
    const glyph = f.glyphIndex(character.codePointAt(0) ?? 0);
    positions.push(positions[positions.length - 1] + f.advanceWidth(glyph) * scale);
  }
  return positions;
};

// A minimal TrueType font built in memory, so the rasterizer's exact coverage and the composite and
// damage paths can be checked against known outlines.
type TestGlyph = { contours: [number, number, boolean][][] } | { components: [number, number, number][] };

function sfnt(tables: Record<string, Uint8Array>): Uint8Array {
  const tags = Object.keys(tables).sort();
  let offset = 12 + tags.length * 16;
  const size = tags.reduce((total, tag) => total + ((tables[tag].length + 3) & ~3), offset);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0x00010000);
  view.setUint16(4, tags.length);
  tags.forEach((tag, i) => {
    const record = 12 + i * 16;
    for (let k = 0; k < 4; k++) out[record + k] = tag.charCodeAt(k);
    view.setUint32(record + 8, offset);
    view.setUint32(record + 12, tables[tag].length);
    out.set(tables[tag], offset);
    offset += (tables[tag].length + 3) & ~3;
  });
  return out;
}

function tableOffset(font: Uint8Array, tag: string): number {
  const view = new DataView(font.buffer, font.byteOffset);
  for (let i = 0; i < view.getUint16(4); i++) {
    const record = 12 + i * 16;
    if (String.fromCharCode(...font.subarray(record, record + 4)) === tag) return view.getUint32(record + 8);
  }
  throw new Error(`no ${tag}`);
}

function table(size: number, fill: (view: DataView) => void): Uint8Array {
  const bytes = new Uint8Array(size);
  fill(new DataView(bytes.buffer));
  return bytes;
}

/** unitsPerEm 1000, ascender 800, descender −200, every glyph 1000 wide; `cmap` maps code points to glyphs. */
function buildFont(glyphs: TestGlyph[], cmap: Record<number, number>): Uint8Array {
  const encoded = glyphs.map((glyph) => {
    const words: number[] = [];
    if ("contours" in glyph) {
      words.push(glyph.contours.length, 0, 0, 0, 0);
      let end = -1;
      for (const contour of glyph.contours) {
        end += contour.length;
        words.push(end);
      }
      words.push(0); // no instructions
      const points = glyph.contours.flat();
      const flags = points.map(([, , on]) => (on ? 1 : 0));
      const deltas = (axis: 0 | 1) => points.map((p, i) => p[axis] - (i > 0 ? points[i - 1][axis] : 0));
      const bytes = [...words.flatMap((w) => [(w >> 8) & 0xff, w & 0xff]), ...flags];
      for (const d of [...deltas(0), ...deltas(1)]) bytes.push((d >> 8) & 0xff, d & 0xff);
      return Uint8Array.from(bytes);
    }
    words.push(0xffff, 0, 0, 0, 0);
    glyph.components.forEach(([child, dx, dy], i) => {
      const more = i < glyph.components.length - 1 ? 0x20 : 0;
      words.push(0x0001 | 0x0002 | more, child, dx & 0xffff, dy & 0xffff);
    });
    return Uint8Array.from(words.flatMap((w) => [(w >> 8) & 0xff, w & 0xff]));
  });
  const glyf = new Uint8Array(encoded.reduce((total, g) => total + g.length, 0));
  const loca = table((glyphs.length + 1) * 4, (view) => {
    let offset = 0;
    encoded.forEach((g, i) => {
      view.setUint32(i * 4, offset);
      glyf.set(g, offset);
      offset += g.length;
    });
    view.setUint32(glyphs.length * 4, offset);
  });
  const entries = Object.entries(cmap).map(([code, glyph]) => [Number(code), glyph]);
  return sfnt({
    head: table(54, (view) => {
      view.setUint32(12, 0x5f0f3cf5);
      view.setUint16(18, 1000);
      view.setInt16(50, 1);
    }),
    hhea: table(36, (view) => {
      view.setInt16(4, 800);
      view.setInt16(6, -200);
      view.setUint16(34, 1);
    }),
    maxp: table(6, (view) => {
      view.setUint32(0, 0x00005000);
      view.setUint16(4, glyphs.length);
    }),
    hmtx: table(4, (view) => view.setUint16(0, 1000)),
    cmap: table(12 + 16 + entries.length * 12, (view) => {
      view.setUint16(2, 1);
      view.setUint16(4, 3);
      view.setUint16(6, 10);
      view.setUint32(8, 12);
      view.setUint16(12, 12);
      view.setUint32(16, 16 + entries.length * 12);
      view.setUint32(24, entries.length);
      entries.forEach(([code, glyph], i) => {
        view.setUint32(28 + i * 12, code);
        view.setUint32(32 + i * 12, code);
        view.setUint32(36 + i * 12, glyph);
      });
    }),
    loca,
    glyf,
  });
}

/** A clockwise square, lower-left corner at (x, y). */
const square = (x: number, y: number, side: number): [number, number, boolean][] => [
  [x, y, true],
  [x, y + side, true],
  [x + side, y + side, true],
  [x + side, y, true],
];

describe("synthetic fonts", () => {
  const notdef = { contours: [square(100, 0, 500)] };

  it("fills a square exactly: full inside, half on a half-pixel edge, nothing outside", () => {
    // 10 px to the em: the square spans x 2.5..7.5 px and rows from 8 − 2.5 to 8 − 7.5.
    const f = parseFont(buildFont([notdef, { contours: [square(250, 250, 500)] }], { 65: 1 }));
    const mask = renderText(f, "A", 10);
    expect([mask.width, mask.height, mask.baseline]).toEqual([10, 10, 8]);
    const at = (x: number, y: number) => mask.coverage[y * mask.width + x];
    expect(at(4, 4)).toBe(255);
    expect(at(3, 3)).toBe(255);
    expect(at(2, 4)).toBe(128); // the left edge halves column 2
    expect(at(7, 4)).toBe(128);
    expect(at(4, 0)).toBe(128); // the top edge at y = 0.5 halves row 0
    expect(at(2, 0)).toBe(64); // a quarter in the corner
    expect(at(1, 4)).toBe(0);
    expect(at(8, 4)).toBe(0);
    expect(at(4, 6)).toBe(0);
  });

  it("leaves holes where contours wind the other way and fills where they agree", () => {
    const hole = square(300, 300, 200).reverse();
    const f = parseFont(
      buildFont(
        [
          notdef,
          { contours: [square(100, 0, 600), hole] },
          { contours: [square(0, 0, 500), square(0, 0, 500)] },
        ],
        {
          65: 1,
          66: 2,
        },
      ),
    );
    const holed = renderText(f, "A", 10);
    expect(holed.coverage[4 * 10 + 4]).toBe(0); // inside the hole
    expect(holed.coverage[6 * 10 + 2]).toBe(255); // the ring
    const doubled = renderText(f, "B", 10);
    expect(doubled.coverage[6 * 10 + 2]).toBe(255); // overlapping same-direction contours do not exceed full
  });

  it("draws quadratic curves with implied on-curve points", () => {
    // All four points off-curve: TrueType's way of writing a circle-ish blob.
    const blob: [number, number, boolean][] = [
      [100, 0, false],
      [100, 600, false],
      [700, 600, false],
      [700, 0, false],
    ];
    const f = parseFont(buildFont([notdef, { contours: [blob] }], { 65: 1 }));
    const mask = renderText(f, "A", 100);
    const at = (x: number, y: number) => mask.coverage[y * mask.width + x];
    expect(at(40, 50)).toBe(255); // centre
    expect(at(11, 21)).toBe(0); // the control polygon's corner lies outside the curve
    expect(at(11, 50)).toBe(255); // the curve passes through the midpoint of the polygon's left side
  });

  it("resolves composite glyphs with offsets", () => {
    const f = parseFont(
      buildFont(
        [
          notdef,
          { contours: [square(0, 0, 200)] },
          {
            components: [
              [1, 0, 0],
              [1, 500, 300],
            ],
          },
        ],
        { 65: 2 },
      ),
    );
    expect(f.outline(2)).toHaveLength(2);
    expect(f.outline(2)[1][0]).toEqual({ x: 500, y: 300, onCurve: true });
    const mask = renderText(f, "A", 10);
    const at = (x: number, y: number) => mask.coverage[y * mask.width + x];
    expect(at(1, 7)).toBe(255); // the first square: x 0..2, rows 6..8
    expect(at(6, 4)).toBe(255); // the second: x 5..7, rows 3..5
    expect(at(3, 5)).toBe(0);
  });

  it("rejects a composite glyph that contains itself instead of recursing forever", () => {
    const f = parseFont(buildFont([notdef, { components: [[1, 10, 0]] }], { 65: 1 }));
    expect(() => f.outline(1)).toThrow(FontError);
    expect(() => renderText(f, "A", 20)).toThrow(/nests too deeply/);
  });

  it("rejects glyph locations outside the glyf table and glyph data cut short", () => {
    const bytes = buildFont([notdef, { contours: [square(0, 0, 200)] }], { 65: 1 });
    const view = new DataView(bytes.buffer);
    const loca = tableOffset(bytes, "loca");
    const glyph1 = view.getUint32(loca + 4);
    view.setUint32(loca + 8, glyph1 + 20); // ends inside its coordinates
    expect(() => parseFont(bytes).outline(1)).toThrow(FontError);
    view.setUint32(loca + 8, 0x7fffffff);
    expect(() => parseFont(bytes).outline(1)).toThrow(/outside the glyf table/);
    expect(parseFont(bytes).outline(0)).toHaveLength(1); // other glyphs still draw
  });

  it("names CFF fonts as unsupported", () => {
    const otto = buildFont([notdef], {});
    new DataView(otto.buffer).setUint32(0, 0x4f54544f);
    expect(() => parseFont(otto)).toThrow("CFF outlines are not supported");
  });
});

describe("DroidSansFallbackFull", () => {
  const droid = () => font("droidsansfallback");

  it("maps known code points to glyphs", () => {
    const f = droid();
    expect(f.glyphIndex("水".codePointAt(0) ?? 0)).toBeGreaterThan(0);
    expect(f.glyphIndex("中".codePointAt(0) ?? 0)).toBeGreaterThan(0);
    expect(f.glyphIndex(0x10fffd)).toBe(0);
    expect(f.unitsPerEm).toBe(256);
  });

  it("draws 中文水印 as four ideographs, each inside its em-square cell", () => {
    const f = droid();
    const size = 40;
    const mask = renderText(f, "中文水印", size);
    const pens = penPositions(f, "中文水印", size);
    expect(mask.width).toBe(Math.ceil(pens[4]));
    expect(mask.width).toBeGreaterThanOrEqual(4 * size - 1);
    expect(mask.width).toBeLessThanOrEqual(4 * size + 4);
    expect(mask.height).toBe(Math.ceil(((f.ascender - f.descender) * size) / f.unitsPerEm));
    for (let i = 0; i < 4; i++) {
      const left = Math.floor(pens[i]);
      const right = Math.ceil(pens[i + 1]);
      // Ideographs are dense: a good share of the cell is inked.
      expect(ink(mask, left, right) / 255, `cell ${i}`).toBeGreaterThan(size * size * 0.1);
      // And they stay within the em square standing on the baseline (CJK sits ~0.12 em below it).
      const [top, bottom] = inkedRows(mask, left, right);
      expect(top).toBeGreaterThanOrEqual(mask.baseline - size);
      expect(bottom).toBeLessThanOrEqual(mask.baseline + Math.ceil(size * 0.2));
      expect(bottom - top).toBeGreaterThan(size * 0.7);
    }
    // Side bearings keep the ideographs apart: no run of inked columns crosses from one cell to the next
    // (印 is two runs by itself).
    const cellOf = (x: number) => pens.findIndex((pen, i) => i > 0 && x < pen) - 1;
    const runs = inkedColumnRuns(mask);
    expect(runs.length).toBeGreaterThanOrEqual(4);
    for (const [first, last] of runs) expect(cellOf(first), `run ${first}..${last}`).toBe(cellOf(last));
    // Above the em square nothing is drawn.
    expect(ink(mask, 0, mask.width, 0, mask.baseline - size)).toBe(0);
  });

  it("scales a glyph with the size", () => {
    const f = droid();
    const small = renderText(f, "水", 24);
    const large = renderText(f, "水", 48);
    expect(Math.abs(large.width - 2 * small.width)).toBeLessThanOrEqual(1);
    expect(Math.abs(large.height - 2 * small.height)).toBeLessThanOrEqual(1);
    const runs = (m: TextMask) => inkedColumnRuns(m).map(([a, b]) => b - a + 1);
    const inkedWidth = (m: TextMask) => Math.max(...runs(m));
    expect(inkedWidth(large) / inkedWidth(small)).toBeGreaterThan(1.8);
    expect(inkedWidth(large) / inkedWidth(small)).toBeLessThan(2.2);
    expect(ink(large) / ink(small)).toBeGreaterThan(3.5);
    expect(ink(large) / ink(small)).toBeLessThan(4.5);
  });

  it("draws missing characters as .notdef, a surrogate pair as one", () => {
    const f = droid();
    const notdefWidth = Math.ceil((f.advanceWidth(0) * 40) / f.unitsPerEm);
    for (const text of ["\u{10FFFD}", "😀", "\uD800"]) {
      const mask = renderText(f, text, 40);
      expect(mask.width, JSON.stringify(text)).toBe(notdefWidth);
      expect(ink(mask), JSON.stringify(text)).toBeGreaterThan(0);
    }
    expect(renderText(f, "😀😀", 40).width).toBe(Math.ceil((2 * f.advanceWidth(0) * 40) / f.unitsPerEm));
  });

  it("throws on truncated or garbage font files", () => {
    const bytes = fontBytes("droidsansfallback");
    expect(() => parseFont(bytes.subarray(0, 1000))).toThrow(FontError);
    expect(() => parseFont(bytes.subarray(0, 8))).toThrow(FontError);
    expect(() => parseFont(new Uint8Array(0))).toThrow(FontError);
    // A fixed pseudo-random sequence, so a failure reproduces.
    const garbage = new Uint8Array(4096);
    let seed = 1;
    for (let i = 0; i < garbage.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      garbage[i] = seed >>> 24;
    }
    expect(() => parseFont(garbage)).toThrow(FontError);
    garbage.set(bytes.subarray(0, 12));
    expect(() => parseFont(garbage)).toThrow(FontError);
  });

  it("renders nothing for an empty string and rejects bad sizes", () => {
    const mask = renderText(droid(), "", 40);
    expect(mask.width).toBe(1);
    expect(ink(mask)).toBe(0);
    expect(() => renderText(droid(), "水", 0)).toThrow(RangeError);
    expect(() => renderText(droid(), "水", Number.NaN)).toThrow(RangeError);
  });
});

describe("wqy-microhei (a .ttc collection)", () => {
  const microhei = () => font("wqy-microhei");

  it("maps Latin and CJK code points to glyphs", () => {
    const f = microhei();
    for (const character of "AHello水印") {
      expect(f.glyphIndex(character.codePointAt(0) ?? 0), character).toBeGreaterThan(0);
    }
  });

  it("draws Hello at 40 px: five letters by their advances, on the baseline", () => {
    const f = microhei();
    const size = 40;
    const mask = renderText(f, "Hello", size);
    const pens = penPositions(f, "Hello", size);
    expect(mask.width).toBe(Math.ceil(pens[5]));
    // Five Latin advances: between a narrow and a wide letter each.
    expect(mask.width).toBeGreaterThan(5 * size * 0.3);
    expect(mask.width).toBeLessThan(5 * size * 0.8);
    const runs = inkedColumnRuns(mask);
    expect(runs).toHaveLength(5);
    runs.forEach(([first, last], i) => {
      // Each letter's ink lies within its advance (give or take an anti-aliased pixel).
      expect(first, `letter ${i}`).toBeGreaterThanOrEqual(Math.floor(pens[i]) - 1);
      expect(last, `letter ${i}`).toBeLessThanOrEqual(Math.ceil(pens[i + 1]));
    });
    // No descenders in "Hello"; 'H' and the 'l's rise to about the cap height.
    const [top, bottom] = inkedRows(mask);
    expect(bottom).toBeLessThanOrEqual(mask.baseline);
    expect(bottom).toBeGreaterThanOrEqual(mask.baseline - 1);
    expect(mask.baseline - top).toBeGreaterThan(size * 0.6);
    expect(mask.baseline - top).toBeLessThan(size * 0.85);
    // 'H' is two stems and a bar: a column through its middle has ink only around the bar.
    const [hFirst, hLast] = runs[0];
    const middle = Math.round((hFirst + hLast) / 2);
    expect(ink(mask, middle, middle + 1, top, top + 5)).toBe(0);
    expect(ink(mask, hFirst, hFirst + 2, top, top + 5)).toBeGreaterThan(0);
  });
});

describe("wqy-zenhei (16 MB .ttc collection)", () => {
  it("parses the first font of the collection and draws Latin and CJK", () => {
    const f = font("wqy-zenhei");
    expect(f.unitsPerEm).toBe(1024);
    expect(f.glyphIndex(0x41)).toBeGreaterThan(0);
    expect(f.glyphIndex(0x6c34)).toBeGreaterThan(0);
    const mask = renderText(f, "Hi 中文", 40);
    expect(inkedColumnRuns(mask).length).toBeGreaterThanOrEqual(4);
    const pens = penPositions(f, "Hi 中文", 40);
    expect(ink(mask, Math.ceil(pens[2]), Math.floor(pens[3]))).toBe(0); // the space
    expect(ink(mask, Math.floor(pens[3]), Math.ceil(pens[4]))).toBeGreaterThan(0);
  });
});
