// A minimal TrueType font built in memory, so the rasterizer's exact coverage and the composite and
// damage paths can be checked against known outlines.
export type TestGlyph =
  | { contours: [number, number, boolean][][] }
  | { components: [number, number, number][] };

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

export function tableOffset(font: Uint8Array, tag: string): number {
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
export function buildFont(glyphs: TestGlyph[], cmap: Record<number, number>): Uint8Array {
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
export const square = (x: number, y: number, side: number): [number, number, boolean][] => [
  [x, y, true],
  [x, y + side, true],
  [x + side, y + side, true],
  [x + side, y, true],
];
