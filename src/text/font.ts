/**
 * A lazy TrueType reader: enough of the OpenType tables (head, hhea, maxp, cmap, loca, glyf, hmtx) to
 * draw text with real glyph outlines. Written from the OpenType specification.
 *
 * Only table headers and the chosen cmap subtable's position are read at parse time: a CJK font is
 * megabytes and holds tens of thousands of glyphs, so glyphs are decoded when first drawn. Every read
 * is bounds-checked, because fonts come from a bucket and a damaged one must fail with an error, not
 * with garbage or an endless loop.
 */

/** A damaged or unsupported font file. */
export class FontError extends Error {
  override name = "FontError";
}

/** A point of a TrueType contour, in font units (y up). Off-curve points are quadratic control points. */
export interface OutlinePoint {
  readonly x: number;
  readonly y: number;
  readonly onCurve: boolean;
}

/** A closed contour; consecutive off-curve points imply an on-curve point halfway between them. */
export type Contour = readonly OutlinePoint[];

export interface Font {
  readonly unitsPerEm: number;
  /** Above the baseline, in font units (positive). */
  readonly ascender: number;
  /** Below the baseline, in font units (negative, as in hhea). */
  readonly descender: number;
  readonly lineGap: number;
  readonly numGlyphs: number;
  /** The glyph for a Unicode code point; 0 (.notdef) when the font has none. */
  glyphIndex(codePoint: number): number;
  /** In font units. */
  advanceWidth(glyph: number): number;
  /** The glyph's contours in font units, composites resolved. Empty for blank glyphs such as space. */
  outline(glyph: number): readonly Contour[];
}

/** Composite glyphs nest a few levels in real fonts; more than this is a cycle or a damaged font. */
const MAX_COMPONENT_DEPTH = 16;
/** glyf point indices are 16-bit; composites that add up to more are damaged or hostile. */
const MAX_GLYPH_POINTS = 65_536;
/** Decoded outlines kept per font: a watermark draws a handful of distinct glyphs. */
const OUTLINE_CACHE_SIZE = 512;

interface Range {
  readonly offset: number;
  readonly length: number;
}

/** Big-endian reads that throw a FontError naming the table when they would leave its bounds. */
class Reader {
  private readonly view: DataView;

  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  check(offset: number, size: number, within: Range, what: string): void {
    if (offset < within.offset || offset + size > within.offset + within.length) {
      throw new FontError(`Damaged font: ${what} lies outside its table.`);
    }
  }

  u8(offset: number, within: Range, what: string): number {
    this.check(offset, 1, within, what);
    return this.view.getUint8(offset);
  }
  i8(offset: number, within: Range, what: string): number {
    this.check(offset, 1, within, what);
    return this.view.getInt8(offset);
  }
  u16(offset: number, within: Range, what: string): number {
    this.check(offset, 2, within, what);
    return this.view.getUint16(offset);
  }
  i16(offset: number, within: Range, what: string): number {
    this.check(offset, 2, within, what);
    return this.view.getInt16(offset);
  }
  u32(offset: number, within: Range, what: string): number {
    this.check(offset, 4, within, what);
    return this.view.getUint32(offset);
  }
  f2dot14(offset: number, within: Range, what: string): number {
    return this.i16(offset, within, what) / 16384;
  }
  tag(offset: number, within: Range, what: string): string {
    this.check(offset, 4, within, what);
    return String.fromCharCode(...this.bytes.subarray(offset, offset + 4));
  }
}

type CmapLookup = (codePoint: number) => number;

/**
 * Parses a TrueType font (.ttf), or the first font of a collection (.ttc). Throws a FontError for
 * damaged files and for fonts this reader cannot draw (CFF outlines, WOFF).
 */
export function parseFont(bytes: Uint8Array): Font {
  const reader = new Reader(bytes);
  const file: Range = { offset: 0, length: bytes.length };
  if (bytes.length < 12) throw new FontError("Not a font: the file is too short.");

  let start = 0;
  const signature = reader.tag(0, file, "the file signature");
  if (signature === "ttcf") {
    const count = reader.u32(8, file, "the collection's font count");
    if (count < 1) throw new FontError("Damaged font: the collection holds no fonts.");
    start = reader.u32(12, file, "the collection's first font offset");
  } else if (signature === "wOFF" || signature === "wOF2") {
    throw new FontError("WOFF fonts are not supported: use the uncompressed TrueType file.");
  }

  const version = reader.u32(start, file, "the font's table directory");
  if (version === 0x4f54544f /* OTTO */) throw new FontError("CFF outlines are not supported.");
  if (version !== 0x00010000 && version !== 0x74727565 /* true */) {
    throw new FontError("Not a TrueType font: unknown sfnt version.");
  }
  const numTables = reader.u16(start + 4, file, "the table count");
  const tables = new Map<string, Range>();
  for (let i = 0; i < numTables; i++) {
    const record = start + 12 + i * 16;
    const tag = reader.tag(record, file, "a table record");
    const offset = reader.u32(record + 8, file, "a table record");
    const length = reader.u32(record + 12, file, "a table record");
    if (offset + length > bytes.length) {
      throw new FontError(`Damaged font: the ${tag.trim()} table runs past the end of the file.`);
    }
    tables.set(tag, { offset, length });
  }
  const table = (tag: string): Range => {
    const range = tables.get(tag);
    if (!range) throw new FontError(`Damaged font: the ${tag.trim()} table is missing.`);
    return range;
  };
  if (!tables.has("glyf") && (tables.has("CFF ") || tables.has("CFF2"))) {
    throw new FontError("CFF outlines are not supported.");
  }

  const head = table("head");
  if (reader.u32(head.offset + 12, head, "head.magicNumber") !== 0x5f0f3cf5) {
    throw new FontError("Damaged font: the head table's magic number is wrong.");
  }
  const unitsPerEm = reader.u16(head.offset + 18, head, "head.unitsPerEm");
  if (unitsPerEm < 16 || unitsPerEm > 16384) {
    throw new FontError(`Damaged font: unitsPerEm ${unitsPerEm} is out of range.`);
  }
  const indexToLocFormat = reader.i16(head.offset + 50, head, "head.indexToLocFormat");
  if (indexToLocFormat !== 0 && indexToLocFormat !== 1) {
    throw new FontError("Damaged font: unknown indexToLocFormat.");
  }

  const numGlyphs = reader.u16(table("maxp").offset + 4, table("maxp"), "maxp.numGlyphs");
  if (numGlyphs < 1) throw new FontError("Damaged font: it has no glyphs.");

  const hhea = table("hhea");
  let ascender = reader.i16(hhea.offset + 4, hhea, "hhea.ascender");
  let descender = reader.i16(hhea.offset + 6, hhea, "hhea.descender");
  const lineGap = reader.i16(hhea.offset + 8, hhea, "hhea.lineGap");
  const numberOfHMetrics = reader.u16(hhea.offset + 34, hhea, "hhea.numberOfHMetrics");
  if (numberOfHMetrics < 1) throw new FontError("Damaged font: hhea has no horizontal metrics.");
  const hmtx = table("hmtx");
  reader.check(hmtx.offset, numberOfHMetrics * 4, hmtx, "hmtx's metrics");
  if (ascender - descender <= 0) {
    // Some fonts leave hhea's metrics zero; the font bounding box still gives a usable line box.
    ascender = reader.i16(head.offset + 42, head, "head.yMax");
    descender = reader.i16(head.offset + 38, head, "head.yMin");
    if (ascender - descender <= 0) throw new FontError("Damaged font: it has no vertical extent.");
  }

  const loca = table("loca");
  const locaEntry = indexToLocFormat === 0 ? 2 : 4;
  reader.check(loca.offset, (numGlyphs + 1) * locaEntry, loca, "loca's offsets");
  const glyf = table("glyf");

  const lookup = cmapLookup(reader, table("cmap"));

  const glyphRange = (glyph: number): Range => {
    const at = loca.offset + glyph * locaEntry;
    const from = indexToLocFormat === 0 ? reader.u16(at, loca, "loca") * 2 : reader.u32(at, loca, "loca");
    const to =
      indexToLocFormat === 0 ? reader.u16(at + 2, loca, "loca") * 2 : reader.u32(at + 4, loca, "loca");
    if (to < from || to > glyf.length) {
      throw new FontError(`Damaged font: glyph ${glyph}'s location lies outside the glyf table.`);
    }
    return { offset: glyf.offset + from, length: to - from };
  };

  const checkGlyph = (glyph: number) => {
    if (!Number.isInteger(glyph) || glyph < 0 || glyph >= numGlyphs) {
      throw new RangeError(`Glyph ${glyph} is not in this font (it has ${numGlyphs}).`);
    }
  };

  const cache = new Map<number, Contour[]>();
  const outline = (glyph: number, depth: number): Contour[] => {
    let contours = cache.get(glyph);
    if (!contours) {
      contours = decodeGlyph(reader, glyphRange(glyph), glyph, depth, (component, nested) => {
        if (component >= numGlyphs) {
          throw new FontError(`Damaged font: a composite glyph uses missing glyph ${component}.`);
        }
        return outline(component, nested);
      });
      // Whole-cache eviction keeps this trivial; a watermark's few glyphs refill it at once.
      if (cache.size >= OUTLINE_CACHE_SIZE) cache.clear();
      cache.set(glyph, contours);
    }
    return contours;
  };

  return {
    unitsPerEm,
    ascender,
    descender,
    lineGap,
    numGlyphs,
    glyphIndex(codePoint) {
      if (!Number.isInteger(codePoint) || codePoint < 0 || codePoint > 0x10ffff) return 0;
      const glyph = lookup(codePoint);
      return glyph < numGlyphs ? glyph : 0;
    },
    advanceWidth(glyph) {
      checkGlyph(glyph);
      const metric = Math.min(glyph, numberOfHMetrics - 1);
      return reader.u16(hmtx.offset + metric * 4, hmtx, "hmtx");
    },
    outline(glyph) {
      checkGlyph(glyph);
      return outline(glyph, 0);
    },
  };
}

/**
 * Picks the best Unicode subtable and returns a lookup into it. Format 12 (3,10) covers characters
 * beyond the BMP; format 4 (3,1) is what BMP-only fonts carry.
 */
function cmapLookup(reader: Reader, cmap: Range): CmapLookup {
  const count = reader.u16(cmap.offset + 2, cmap, "cmap.numTables");
  let best: { rank: number; offset: number; format: number } | undefined;
  for (let i = 0; i < count; i++) {
    const record = cmap.offset + 4 + i * 8;
    const platform = reader.u16(record, cmap, "a cmap encoding record");
    const encoding = reader.u16(record + 2, cmap, "a cmap encoding record");
    const offset = cmap.offset + reader.u32(record + 4, cmap, "a cmap encoding record");
    // A stray record need not sink the font when another subtable is usable.
    if (offset + 2 > cmap.offset + cmap.length) continue;
    const format = reader.u16(offset, cmap, "a cmap subtable's format");
    const rank = cmapRank(platform, encoding, format);
    if (rank !== undefined && (!best || rank < best.rank)) best = { rank, offset, format };
  }
  if (!best) throw new FontError("Unsupported font: no Unicode cmap subtable of format 4 or 12.");
  return best.format === 12 ? format12(reader, cmap, best.offset) : format4(reader, cmap, best.offset);
}

/** Lower is better; undefined for subtables this reader cannot use. */
function cmapRank(platform: number, encoding: number, format: number): number | undefined {
  if (format === 12) {
    if (platform === 3 && encoding === 10) return 0;
    if (platform === 0) return 1;
  } else if (format === 4) {
    if (platform === 3 && encoding === 1) return 2;
    if (platform === 0) return 3;
  }
  return undefined;
}

function format4(reader: Reader, cmap: Range, at: number): CmapLookup {
  // The subtable's 16-bit length field overflows in big CJK fonts, so reads are bounded by the cmap
  // table instead.
  const segCountX2 = reader.u16(at + 6, cmap, "cmap format 4 segCountX2");
  if (segCountX2 === 0 || segCountX2 % 2 !== 0) throw new FontError("Damaged font: bad cmap segment count.");
  const endCodes = at + 14;
  const startCodes = endCodes + segCountX2 + 2;
  const idDeltas = startCodes + segCountX2;
  const idRangeOffsets = idDeltas + segCountX2;
  reader.check(endCodes, segCountX2 * 4 + 2, cmap, "cmap format 4 segments");
  reader.check(idRangeOffsets, segCountX2, cmap, "cmap format 4 segments");
  const segments = segCountX2 / 2;
  const what = "a cmap format 4 segment";
  return (codePoint) => {
    if (codePoint > 0xffff) return 0;
    // endCode is sorted: the first segment whose end is at or past the character is the only candidate.
    let lo = 0;
    let hi = segments - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (reader.u16(endCodes + mid * 2, cmap, what) < codePoint) lo = mid + 1;
      else hi = mid;
    }
    if (reader.u16(endCodes + lo * 2, cmap, what) < codePoint) return 0;
    const startCode = reader.u16(startCodes + lo * 2, cmap, what);
    if (codePoint < startCode) return 0;
    const delta = reader.u16(idDeltas + lo * 2, cmap, what);
    const rangeOffsetAt = idRangeOffsets + lo * 2;
    const rangeOffset = reader.u16(rangeOffsetAt, cmap, what);
    if (rangeOffset === 0) return (codePoint + delta) & 0xffff;
    const glyph = reader.u16(
      rangeOffsetAt + rangeOffset + (codePoint - startCode) * 2,
      cmap,
      "cmap glyphIdArray",
    );
    return glyph === 0 ? 0 : (glyph + delta) & 0xffff;
  };
}

function format12(reader: Reader, cmap: Range, at: number): CmapLookup {
  const numGroups = reader.u32(at + 12, cmap, "cmap format 12 numGroups");
  const groups = at + 16;
  reader.check(groups, numGroups * 12, cmap, "cmap format 12 groups");
  const what = "a cmap format 12 group";
  return (codePoint) => {
    let lo = 0;
    let hi = numGroups - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const group = groups + mid * 12;
      if (codePoint < reader.u32(group, cmap, what)) hi = mid - 1;
      else if (codePoint > reader.u32(group + 4, cmap, what)) lo = mid + 1;
      else return reader.u32(group + 8, cmap, what) + (codePoint - reader.u32(group, cmap, what));
    }
    return 0;
  };
}

// Simple glyph flags.
const ON_CURVE = 0x01;
const X_SHORT = 0x02;
const Y_SHORT = 0x04;
const REPEAT = 0x08;
const X_SAME_OR_POSITIVE = 0x10;
const Y_SAME_OR_POSITIVE = 0x20;

// Composite glyph flags.
const ARG_1_AND_2_ARE_WORDS = 0x0001;
const ARGS_ARE_XY_VALUES = 0x0002;
const WE_HAVE_A_SCALE = 0x0008;
const MORE_COMPONENTS = 0x0020;
const WE_HAVE_AN_X_AND_Y_SCALE = 0x0040;
const WE_HAVE_A_TWO_BY_TWO = 0x0080;
const SCALED_COMPONENT_OFFSET = 0x0800;
const UNSCALED_COMPONENT_OFFSET = 0x1000;

function decodeGlyph(
  reader: Reader,
  data: Range,
  glyph: number,
  depth: number,
  component: (glyph: number, depth: number) => readonly Contour[],
): Contour[] {
  if (data.length === 0) return [];
  const numberOfContours = reader.i16(data.offset, data, `glyph ${glyph}'s header`);
  if (numberOfContours >= 0) return decodeSimple(reader, data, glyph, numberOfContours);
  if (depth >= MAX_COMPONENT_DEPTH) {
    throw new FontError(`Damaged font: composite glyph ${glyph} nests too deeply (a cycle?).`);
  }
  return decodeComposite(reader, data, glyph, depth, component);
}

function decodeSimple(reader: Reader, data: Range, glyph: number, numberOfContours: number): Contour[] {
  const what = `glyph ${glyph}'s outline`;
  let at = data.offset + 10;
  const ends: number[] = [];
  for (let i = 0; i < numberOfContours; i++) {
    const end = reader.u16(at, data, what);
    if (i > 0 && end < ends[i - 1]) throw new FontError(`Damaged font: ${what} has unordered contours.`);
    ends.push(end);
    at += 2;
  }
  const numPoints = numberOfContours === 0 ? 0 : ends[numberOfContours - 1] + 1;
  at += 2 + reader.u16(at, data, what); // skip the hinting instructions

  const flags = new Uint8Array(numPoints);
  for (let i = 0; i < numPoints; ) {
    const flag = reader.u8(at++, data, what);
    flags[i++] = flag;
    if (flag & REPEAT) {
      const repeats = reader.u8(at++, data, what);
      if (i + repeats > numPoints)
        throw new FontError(`Damaged font: ${what} repeats flags past its points.`);
      flags.fill(flag, i, i + repeats);
      i += repeats;
    }
  }

  const xs = new Int32Array(numPoints);
  let x = 0;
  for (let i = 0; i < numPoints; i++) {
    const flag = flags[i];
    if (flag & X_SHORT) {
      const dx = reader.u8(at++, data, what);
      x += flag & X_SAME_OR_POSITIVE ? dx : -dx;
    } else if (!(flag & X_SAME_OR_POSITIVE)) {
      x += reader.i16(at, data, what);
      at += 2;
    }
    xs[i] = x;
  }
  const points: OutlinePoint[] = [];
  let y = 0;
  for (let i = 0; i < numPoints; i++) {
    const flag = flags[i];
    if (flag & Y_SHORT) {
      const dy = reader.u8(at++, data, what);
      y += flag & Y_SAME_OR_POSITIVE ? dy : -dy;
    } else if (!(flag & Y_SAME_OR_POSITIVE)) {
      y += reader.i16(at, data, what);
      at += 2;
    }
    points.push({ x: xs[i], y, onCurve: (flag & ON_CURVE) !== 0 });
  }

  const contours: Contour[] = [];
  let from = 0;
  for (const end of ends) {
    if (end + 1 > from) contours.push(points.slice(from, end + 1));
    from = end + 1;
  }
  return contours;
}

function decodeComposite(
  reader: Reader,
  data: Range,
  glyph: number,
  depth: number,
  component: (glyph: number, depth: number) => readonly Contour[],
): Contour[] {
  const what = `composite glyph ${glyph}`;
  const contours: Contour[] = [];
  // Point-matched components address points by their index across all contours placed so far.
  const placed: OutlinePoint[] = [];
  let at = data.offset + 10;
  let flags: number;
  do {
    flags = reader.u16(at, data, what);
    const child = reader.u16(at + 2, data, what);
    at += 4;
    let arg1: number;
    let arg2: number;
    const xy = (flags & ARGS_ARE_XY_VALUES) !== 0;
    if (flags & ARG_1_AND_2_ARE_WORDS) {
      arg1 = xy ? reader.i16(at, data, what) : reader.u16(at, data, what);
      arg2 = xy ? reader.i16(at + 2, data, what) : reader.u16(at + 2, data, what);
      at += 4;
    } else {
      arg1 = xy ? reader.i8(at, data, what) : reader.u8(at, data, what);
      arg2 = xy ? reader.i8(at + 1, data, what) : reader.u8(at + 1, data, what);
      at += 2;
    }
    // The component's 2×2 matrix [a c; b d]: x' = a·x + c·y, y' = b·x + d·y.
    let a = 1;
    let b = 0;
    let c = 0;
    let d = 1;
    if (flags & WE_HAVE_A_SCALE) {
      a = d = reader.f2dot14(at, data, what);
      at += 2;
    } else if (flags & WE_HAVE_AN_X_AND_Y_SCALE) {
      a = reader.f2dot14(at, data, what);
      d = reader.f2dot14(at + 2, data, what);
      at += 4;
    } else if (flags & WE_HAVE_A_TWO_BY_TWO) {
      a = reader.f2dot14(at, data, what);
      b = reader.f2dot14(at + 2, data, what);
      c = reader.f2dot14(at + 4, data, what);
      d = reader.f2dot14(at + 6, data, what);
      at += 8;
    }

    const source = component(child, depth + 1);
    const transformed = source.map((contour) =>
      contour.map((p) => ({ x: a * p.x + c * p.y, y: b * p.x + d * p.y, onCurve: p.onCurve })),
    );
    let dx: number;
    let dy: number;
    if (xy) {
      dx = arg1;
      dy = arg2;
      // Microsoft's rasterizer leaves offsets unscaled unless a component asks otherwise.
      if (flags & SCALED_COMPONENT_OFFSET && !(flags & UNSCALED_COMPONENT_OFFSET)) {
        dx = a * arg1 + c * arg2;
        dy = b * arg1 + d * arg2;
      }
    } else {
      const childPoints = transformed.flat();
      const anchor = placed[arg1];
      const attach = childPoints[arg2];
      if (!anchor || !attach) throw new FontError(`Damaged font: ${what} matches a point it does not have.`);
      dx = anchor.x - attach.x;
      dy = anchor.y - attach.y;
    }
    for (const contour of transformed) {
      const moved = contour.map((p) => ({ x: p.x + dx, y: p.y + dy, onCurve: p.onCurve }));
      contours.push(moved);
      placed.push(...moved);
    }
    if (placed.length > MAX_GLYPH_POINTS) throw new FontError(`Damaged font: ${what} has too many points.`);
  } while (flags & MORE_COMPONENTS);
  return contours;
}
