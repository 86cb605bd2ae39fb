import { describe, expect, it } from "vitest";
import { bytesSource, type Contour, type Font, FontError, type FontSource, openFont } from "../src/text/font";
import { renderText, type TextMask } from "../src/text/render";
import { fontFile } from "./helpers";
import { buildFont, square, tableOffset } from "./synthetic-font";

const parseFont = (bytes: Uint8Array) => openFont(bytesSource(bytes));
const outline = async (f: Font, glyph: number): Promise<readonly Contour[]> =>
  (await f.outlines([glyph])).get(glyph) ?? [];

// Noto Sans SC Regular (from npm), the font every OSS font name can draw with: Latin and CJK.
const notoBytes = await fontFile("noto-sans-sc");
const noto = await parseFont(notoBytes);

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

describe("synthetic fonts", () => {
  const notdef = { contours: [square(100, 0, 500)] };

  it("fills a square exactly: full inside, half on a half-pixel edge, nothing outside", async () => {
    // 10 px to the em: the square spans x 2.5..7.5 px and rows from 8 − 2.5 to 8 − 7.5.
    const f = await parseFont(buildFont([notdef, { contours: [square(250, 250, 500)] }], { 65: 1 }));
    const mask = await renderText(f, "A", 10);
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

  it("leaves holes where contours wind the other way and fills where they agree", async () => {
    const hole = square(300, 300, 200).reverse();
    const f = await parseFont(
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
    const holed = await renderText(f, "A", 10);
    expect(holed.coverage[4 * 10 + 4]).toBe(0); // inside the hole
    expect(holed.coverage[6 * 10 + 2]).toBe(255); // the ring
    const doubled = await renderText(f, "B", 10);
    expect(doubled.coverage[6 * 10 + 2]).toBe(255); // overlapping same-direction contours do not exceed full
  });

  it("draws quadratic curves with implied on-curve points", async () => {
    // All four points off-curve: TrueType's way of writing a circle-ish blob.
    const blob: [number, number, boolean][] = [
      [100, 0, false],
      [100, 600, false],
      [700, 600, false],
      [700, 0, false],
    ];
    const f = await parseFont(buildFont([notdef, { contours: [blob] }], { 65: 1 }));
    const mask = await renderText(f, "A", 100);
    const at = (x: number, y: number) => mask.coverage[y * mask.width + x];
    expect(at(40, 50)).toBe(255); // centre
    expect(at(11, 21)).toBe(0); // the control polygon's corner lies outside the curve
    expect(at(11, 50)).toBe(255); // the curve passes through the midpoint of the polygon's left side
  });

  it("resolves composite glyphs with offsets", async () => {
    const f = await parseFont(
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
    expect(await outline(f, 2)).toHaveLength(2);
    expect((await outline(f, 2))[1][0]).toEqual({ x: 500, y: 300, onCurve: true });
    const mask = await renderText(f, "A", 10);
    const at = (x: number, y: number) => mask.coverage[y * mask.width + x];
    expect(at(1, 7)).toBe(255); // the first square: x 0..2, rows 6..8
    expect(at(6, 4)).toBe(255); // the second: x 5..7, rows 3..5
    expect(at(3, 5)).toBe(0);
  });

  it("rejects a composite glyph that contains itself instead of recursing forever", async () => {
    const f = await parseFont(buildFont([notdef, { components: [[1, 10, 0]] }], { 65: 1 }));
    await expect(outline(f, 1)).rejects.toThrow(FontError);
    await expect(renderText(f, "A", 20)).rejects.toThrow(/nests too deeply/);
  });

  it("rejects glyph locations outside the glyf table and glyph data cut short", async () => {
    const bytes = buildFont([notdef, { contours: [square(0, 0, 200)] }], { 65: 1 });
    const view = new DataView(bytes.buffer);
    const loca = tableOffset(bytes, "loca");
    const glyph1 = view.getUint32(loca + 4);
    view.setUint32(loca + 8, glyph1 + 20); // ends inside its coordinates
    await expect(outline(await parseFont(bytes), 1)).rejects.toThrow(FontError);
    view.setUint32(loca + 8, 0x7fffffff);
    const damaged = await parseFont(bytes);
    await expect(outline(damaged, 1)).rejects.toThrow(/outside the glyf table/);
    expect(await outline(damaged, 0)).toHaveLength(1); // other glyphs still draw
  });

  it("names CFF fonts as unsupported", async () => {
    const otto = buildFont([notdef], {});
    new DataView(otto.buffer).setUint32(0, 0x4f54544f);
    await expect(parseFont(otto)).rejects.toThrow("CFF outlines are not supported");
  });
});

/** The font as the first (and only) member of a TrueType collection (.ttc): table offsets move. */
function collection(font: Uint8Array): Uint8Array {
  const header = 16;
  const out = new Uint8Array(header + font.length);
  const view = new DataView(out.buffer);
  out.set([0x74, 0x74, 0x63, 0x66]); // ttcf
  view.setUint32(4, 0x00010000);
  view.setUint32(8, 1);
  view.setUint32(12, header);
  out.set(font, header);
  const tables = view.getUint16(header + 4);
  for (let i = 0; i < tables; i++) {
    const record = header + 12 + i * 16;
    view.setUint32(record + 8, view.getUint32(record + 8) + header);
  }
  return out;
}

describe("font collections (.ttc)", () => {
  it("reads the first font of a collection", async () => {
    const notdef = { contours: [square(100, 0, 500)] };
    const single = buildFont([notdef, { contours: [square(250, 250, 500)] }], { 65: 1 });
    const f = await parseFont(collection(single));
    expect(f.glyphIndex(65)).toBe(1);
    const mask = await renderText(f, "A", 10);
    const plain = await renderText(await parseFont(single), "A", 10);
    expect(mask.coverage).toEqual(plain.coverage);
  });
});

/** A source that counts what it is asked for, so tests can see what a font keeps and reads. */
function countingSource(bytes: Uint8Array): FontSource & { reads: number; bytesRead: number } {
  const inner = bytesSource(bytes);
  const source = {
    reads: 0,
    bytesRead: 0,
    async read(offset: number, length: number) {
      const part = await inner.read(offset, length);
      source.reads++;
      source.bytesRead += part.length;
      return part;
    },
  };
  return source;
}

describe("Noto Sans SC", () => {
  it("maps Latin and CJK code points to glyphs", () => {
    expect(noto.unitsPerEm).toBe(1000);
    for (const character of "AHello水印中文") {
      expect(noto.glyphIndex(character.codePointAt(0) ?? 0), character).toBeGreaterThan(0);
    }
    expect(noto.glyphIndex(0x10fffd)).toBe(0);
  });

  it("reads its tables once and glyph outlines by range, never the whole file", async () => {
    const source = countingSource(notoBytes);
    const f = await openFont(source);
    // head, hhea, maxp, cmap, hmtx, loca and the directory: about 270 KB of a 10.5 MB file.
    expect(source.bytesRead).toBeLessThan(300_000);
    const opened = source.bytesRead;
    const reads = source.reads;
    await renderText(f, "中文水印 Hello", 40);
    // One range read per distinct inked glyph (Hello has two l's; a space has no outline), a few
    // hundred bytes each.
    expect(source.reads - reads).toBe(8);
    expect(source.bytesRead - opened).toBeLessThan(20_000);
    // What the isolate keeps: the lookup tables and the decoded outlines.
    expect(f.retainedBytes).toBeLessThan(400_000);
    // Drawn again, the outlines come from memory.
    await renderText(f, "水印", 40);
    expect(source.reads - reads).toBe(8);
  });

  it("draws 中文水印 as four ideographs, each inside its em-square cell", async () => {
    const size = 40;
    const mask = await renderText(noto, "中文水印", size);
    const pens = penPositions(noto, "中文水印", size);
    expect(mask.width).toBe(Math.ceil(pens[4]));
    expect(mask.width).toBeGreaterThanOrEqual(4 * size - 1);
    expect(mask.width).toBeLessThanOrEqual(4 * size + 4);
    expect(mask.height).toBe(Math.ceil(((noto.ascender - noto.descender) * size) / noto.unitsPerEm));
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
    // Side bearings keep the ideographs apart: no run of inked columns crosses from one cell to the next.
    const cellOf = (x: number) => pens.findIndex((pen, i) => i > 0 && x < pen) - 1;
    const runs = inkedColumnRuns(mask);
    expect(runs.length).toBeGreaterThanOrEqual(4);
    for (const [first, last] of runs) expect(cellOf(first), `run ${first}..${last}`).toBe(cellOf(last));
    // Above the em square nothing is drawn.
    expect(ink(mask, 0, mask.width, 0, mask.baseline - size)).toBe(0);
  });

  it("scales a glyph with the size", async () => {
    const small = await renderText(noto, "水", 24);
    const large = await renderText(noto, "水", 48);
    expect(Math.abs(large.width - 2 * small.width)).toBeLessThanOrEqual(1);
    expect(Math.abs(large.height - 2 * small.height)).toBeLessThanOrEqual(1);
    const runs = (m: TextMask) => inkedColumnRuns(m).map(([a, b]) => b - a + 1);
    const inkedWidth = (m: TextMask) => Math.max(...runs(m));
    expect(inkedWidth(large) / inkedWidth(small)).toBeGreaterThan(1.8);
    expect(inkedWidth(large) / inkedWidth(small)).toBeLessThan(2.2);
    expect(ink(large) / ink(small)).toBeGreaterThan(3.5);
    expect(ink(large) / ink(small)).toBeLessThan(4.5);
  });

  it("draws missing characters as .notdef, a surrogate pair as one", async () => {
    const notdefWidth = Math.ceil((noto.advanceWidth(0) * 40) / noto.unitsPerEm);
    for (const text of ["\u{10FFFD}", "😀", "\uD800"]) {
      const mask = await renderText(noto, text, 40);
      expect(mask.width, JSON.stringify(text)).toBe(notdefWidth);
      expect(ink(mask), JSON.stringify(text)).toBeGreaterThan(0);
    }
    expect((await renderText(noto, "😀😀", 40)).width).toBe(
      Math.ceil((2 * noto.advanceWidth(0) * 40) / noto.unitsPerEm),
    );
  });

  it("throws on truncated or garbage font files", async () => {
    await expect(parseFont(notoBytes.subarray(0, 1000))).rejects.toThrow(FontError);
    await expect(parseFont(notoBytes.subarray(0, 8))).rejects.toThrow(FontError);
    await expect(parseFont(new Uint8Array(0))).rejects.toThrow(FontError);
    // A fixed pseudo-random sequence, so a failure reproduces.
    const garbage = new Uint8Array(4096);
    let seed = 1;
    for (let i = 0; i < garbage.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      garbage[i] = seed >>> 24;
    }
    await expect(parseFont(garbage)).rejects.toThrow(FontError);
    garbage.set(notoBytes.subarray(0, 12));
    await expect(parseFont(garbage)).rejects.toThrow(FontError);
  });

  it("renders nothing for an empty string and rejects bad sizes", async () => {
    const mask = await renderText(noto, "", 40);
    expect(mask.width).toBe(1);
    expect(ink(mask)).toBe(0);
    await expect(renderText(noto, "水", 0)).rejects.toThrow(RangeError);
    await expect(renderText(noto, "水", Number.NaN)).rejects.toThrow(RangeError);
  });

  it("draws Hello at 40 px: five letters by their advances, on the baseline", async () => {
    const size = 40;
    const mask = await renderText(noto, "Hello", size);
    const pens = penPositions(noto, "Hello", size);
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

  it("keeps the space between Latin and CJK empty", async () => {
    const mask = await renderText(noto, "Hi 中文", 40);
    expect(inkedColumnRuns(mask).length).toBeGreaterThanOrEqual(4);
    const pens = penPositions(noto, "Hi 中文", 40);
    expect(ink(mask, Math.ceil(pens[2]), Math.floor(pens[3]))).toBe(0); // the space
    expect(ink(mask, Math.floor(pens[3]), Math.ceil(pens[4]))).toBeGreaterThan(0);
  });
});
