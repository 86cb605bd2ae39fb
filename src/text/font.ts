/**
 * A lazy TrueType reader: enough of the OpenType tables (head, hhea, maxp, cmap, loca, glyf, hmtx) to
 * draw text with real glyph outlines. Written from the OpenType specification.
 *
 * The font file is never held whole: a CJK font is 10-20 MB and holds tens of thousands of glyphs,
 * and an isolate has 128 MB. Opening a font reads its table directory and the tables every lookup
 * needs (head, hhea, maxp, the chosen cmap subtable's table, hmtx, loca: about 270 KB for Noto Sans
 * SC); glyph outlines are then read by range, a few hundred bytes each, when first drawn, and a
 * bounded number of decoded outlines is kept. Every read is bounds-checked, because fonts come from
 * a bucket and a damaged one must fail with an error, not with garbage or an endless loop.
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

/** Where a font's bytes come from: an R2 object read by range, or bytes in memory (tests). */
export interface FontSource {
  /** The bytes [offset, offset + length) of the file; fewer when the file ends first. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** A font held in memory. */
export function bytesSource(bytes: Uint8Array): FontSource {
  return { read: async (offset, length) => bytes.subarray(offset, offset + length) };
}

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
  /**
   * The glyphs' contours in font units, composites resolved; empty for blank glyphs such as space.
   * Reads the outlines it does not hold yet from the source.
   */
  outlines(glyphs: readonly number[]): Promise<ReadonlyMap<number, readonly Contour[]>>;
  /** Bytes this font keeps in memory: its tables and the outlines it holds decoded. */
  readonly retainedBytes: number;
}

/** Composite glyphs nest a few levels in real fonts; more than this is a cycle or a damaged font. */
const MAX_COMPONENT_DEPTH = 16;
/** glyf point indices are 16-bit; composites that add up to more are damaged or hostile. */
const MAX_GLYPH_POINTS = 65_536;
/** Decoded outlines kept per font: a watermark draws a handful of distinct glyphs. */
const OUTLINE_CACHE_SIZE = 512;
/** Read at once when opening: a collection header and a table directory fit in it. */
const DIRECTORY_BYTES = 1024;
/** A glyph's outline is a few hundred bytes; larger ones are damaged or hostile. */
const MAX_GLYPH_BYTES = 64 * 1024;
/** Bytes per decoded outline point kept in the cache (three fields of an object). */
const BYTES_PER_POINT = 32;

interface Range {
  readonly offset: number;
  readonly length: number;
}

/**
 * Big-endian reads over bytes read from the file, which start at file offset `base`; each read
 * throws a FontError naming what it read when it would leave `within` (file offsets).
 */
class Reader {
  private readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    readonly base = 0,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  check(offset: number, size: number, within: Range, what: string): void {
    if (
      offset < within.offset ||
      offset + size > within.offset + within.length ||
      offset < this.base ||
      offset + size > this.base + this.bytes.length
    ) {
      throw new FontError(`Damaged font: ${what} lies outside its table.`);
    }
  }

  u8(offset: number, within: Range, what: string): number {
    this.check(offset, 1, within, what);
    return this.view.getUint8(offset - this.base);
  }
  i8(offset: number, within: Range, what: string): number {
    this.check(offset, 1, within, what);
    return this.view.getInt8(offset - this.base);
  }
  u16(offset: number, within: Range, what: string): number {
    this.check(offset, 2, within, what);
    return this.view.getUint16(offset - this.base);
  }
  i16(offset: number, within: Range, what: string): number {
    this.check(offset, 2, within, what);
    return this.view.getInt16(offset - this.base);
  }
  u32(offset: number, within: Range, what: string): number {
    this.check(offset, 4, within, what);
    return this.view.getUint32(offset - this.base);
  }
  f2dot14(offset: number, within: Range, what: string): number {
    return this.i16(offset, within, what) / 16384;
  }
  tag(offset: number, within: Range, what: string): string {
    this.check(offset, 4, within, what);
    const at = offset - this.base;
    return String.fromCharCode(...this.bytes.subarray(at, at + 4));
  }
}

/** Reads a table whole; a file that ends inside it is damaged. */
async function readTable(source: FontSource, range: Range, tag: string): Promise<Reader> {
  const bytes = await source.read(range.offset, range.length);
  if (bytes.length < range.length) {
    throw new FontError(`Damaged font: the ${tag.trim()} table runs past the end of the file.`);
  }
  return new Reader(bytes.slice(), range.offset);
}

type CmapLookup = (codePoint: number) => number;

/**
 * Opens a TrueType font (.ttf), or the first font of a collection (.ttc), reading only its table
 * directory and lookup tables. Throws a FontError for damaged files and for fonts this reader
 * cannot draw (CFF outlines, WOFF).
 */
export async function openFont(source: FontSource): Promise<Font> {
  const first = await source.read(0, DIRECTORY_BYTES);
  let directory = new Reader(first);
  const known: Range = { offset: 0, length: first.length };
  if (first.length < 12) throw new FontError("Not a font: the file is too short.");

  let start = 0;
  const signature = directory.tag(0, known, "the file signature");
  if (signature === "ttcf") {
    const count = directory.u32(8, known, "the collection's font count");
    if (count < 1) throw new FontError("Damaged font: the collection holds no fonts.");
    start = directory.u32(12, known, "the collection's first font offset");
  } else if (signature === "wOFF" || signature === "wOF2") {
    throw new FontError("WOFF fonts are not supported: use the uncompressed TrueType file.");
  }
  const readDirectory = async (length: number) => {
    if (start + length <= first.length) return;
    const bytes = await source.read(start, length);
    if (bytes.length < length) throw new FontError("Damaged font: the table directory is cut short.");
    directory = new Reader(bytes.slice(), start);
  };
  await readDirectory(12);
  const header: Range = { offset: start, length: 12 };
  const version = directory.u32(start, header, "the font's table directory");
  if (version === 0x4f54544f /* OTTO */) throw new FontError("CFF outlines are not supported.");
  if (version !== 0x00010000 && version !== 0x74727565 /* true */) {
    throw new FontError("Not a TrueType font: unknown sfnt version.");
  }
  const numTables = directory.u16(start + 4, header, "the table count");
  const records: Range = { offset: start + 12, length: numTables * 16 };
  await readDirectory(12 + records.length);
  const tables = new Map<string, Range>();
  for (let i = 0; i < numTables; i++) {
    const record = records.offset + i * 16;
    const tag = directory.tag(record, records, "a table record");
    const offset = directory.u32(record + 8, records, "a table record");
    const length = directory.u32(record + 12, records, "a table record");
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
  const glyf = table("glyf");
  const [head, maxp, hhea, hmtx, loca, cmap] = await Promise.all(
    ["head", "maxp", "hhea", "hmtx", "loca", "cmap"].map((tag) => readTable(source, table(tag), tag)),
  );
  const range = (tag: string) => table(tag);

  const headRange = range("head");
  if (head.u32(headRange.offset + 12, headRange, "head.magicNumber") !== 0x5f0f3cf5) {
    throw new FontError("Damaged font: the head table's magic number is wrong.");
  }
  const unitsPerEm = head.u16(headRange.offset + 18, headRange, "head.unitsPerEm");
  if (unitsPerEm < 16 || unitsPerEm > 16384) {
    throw new FontError(`Damaged font: unitsPerEm ${unitsPerEm} is out of range.`);
  }
  const indexToLocFormat = head.i16(headRange.offset + 50, headRange, "head.indexToLocFormat");
  if (indexToLocFormat !== 0 && indexToLocFormat !== 1) {
    throw new FontError("Damaged font: unknown indexToLocFormat.");
  }

  const numGlyphs = maxp.u16(range("maxp").offset + 4, range("maxp"), "maxp.numGlyphs");
  if (numGlyphs < 1) throw new FontError("Damaged font: it has no glyphs.");

  const hheaRange = range("hhea");
  let ascender = hhea.i16(hheaRange.offset + 4, hheaRange, "hhea.ascender");
  let descender = hhea.i16(hheaRange.offset + 6, hheaRange, "hhea.descender");
  const lineGap = hhea.i16(hheaRange.offset + 8, hheaRange, "hhea.lineGap");
  const numberOfHMetrics = hhea.u16(hheaRange.offset + 34, hheaRange, "hhea.numberOfHMetrics");
  if (numberOfHMetrics < 1) throw new FontError("Damaged font: hhea has no horizontal metrics.");
  const hmtxRange = range("hmtx");
  hmtx.check(hmtxRange.offset, numberOfHMetrics * 4, hmtxRange, "hmtx's metrics");
  if (ascender - descender <= 0) {
    // Some fonts leave hhea's metrics zero; the font bounding box still gives a usable line box.
    ascender = head.i16(headRange.offset + 42, headRange, "head.yMax");
    descender = head.i16(headRange.offset + 38, headRange, "head.yMin");
    if (ascender - descender <= 0) throw new FontError("Damaged font: it has no vertical extent.");
  }

  const locaRange = range("loca");
  const locaEntry = indexToLocFormat === 0 ? 2 : 4;
  loca.check(locaRange.offset, (numGlyphs + 1) * locaEntry, locaRange, "loca's offsets");

  const lookup = cmapLookup(cmap, range("cmap"));

  /** Where a glyph's outline lies in the file (empty for blank glyphs). */
  const glyphRange = (glyph: number): Range => {
    const at = locaRange.offset + glyph * locaEntry;
    const from =
      indexToLocFormat === 0 ? loca.u16(at, locaRange, "loca") * 2 : loca.u32(at, locaRange, "loca");
    const to =
      indexToLocFormat === 0 ? loca.u16(at + 2, locaRange, "loca") * 2 : loca.u32(at + 4, locaRange, "loca");
    if (to < from || to > glyf.length || to - from > MAX_GLYPH_BYTES) {
      throw new FontError(`Damaged font: glyph ${glyph}'s location lies outside the glyf table.`);
    }
    return { offset: glyf.offset + from, length: to - from };
  };

  const checkGlyph = (glyph: number) => {
    if (!Number.isInteger(glyph) || glyph < 0 || glyph >= numGlyphs) {
      throw new RangeError(`Glyph ${glyph} is not in this font (it has ${numGlyphs}).`);
    }
  };

  const tableBytes = [head, maxp, hhea, hmtx, loca, cmap].reduce((sum, t) => sum + t.bytes.length, 0);
  const cache = new Map<number, Contour[]>();
  let cachedPoints = 0;
  const remember = (glyph: number, contours: Contour[]) => {
    // Whole-cache eviction keeps this trivial; a watermark's few glyphs refill it at once.
    if (cache.size >= OUTLINE_CACHE_SIZE) {
      cache.clear();
      cachedPoints = 0;
    }
    cache.set(glyph, contours);
    cachedPoints += contours.reduce((sum, contour) => sum + contour.length, 0);
  };

  /** Decodes a glyph whose components (if any) are decoded already, reading its bytes first. */
  const load = async (glyph: number, depth: number, loaded: Map<number, Contour[]>): Promise<void> => {
    if (loaded.has(glyph)) return;
    const held = cache.get(glyph);
    if (held) {
      loaded.set(glyph, held);
      return;
    }
    const data = glyphRange(glyph);
    const bytes = data.length === 0 ? new Uint8Array(0) : await source.read(data.offset, data.length);
    if (bytes.length < data.length) throw new FontError(`Damaged font: glyph ${glyph} is cut short.`);
    const reader = new Reader(bytes, data.offset);
    const components = componentsOf(reader, data, glyph);
    if (components.length > 0 && depth >= MAX_COMPONENT_DEPTH) {
      throw new FontError(`Damaged font: composite glyph ${glyph} nests too deeply (a cycle?).`);
    }
    for (const component of components) {
      if (component >= numGlyphs) {
        throw new FontError(`Damaged font: a composite glyph uses missing glyph ${component}.`);
      }
      await load(component, depth + 1, loaded);
    }
    const contours = decodeGlyph(reader, data, glyph, (component) => loaded.get(component) ?? []);
    loaded.set(glyph, contours);
    remember(glyph, contours);
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
      return hmtx.u16(hmtxRange.offset + metric * 4, hmtxRange, "hmtx");
    },
    async outlines(glyphs) {
      for (const glyph of glyphs) checkGlyph(glyph);
      const loaded = new Map<number, Contour[]>();
      // Distinct glyphs are read at once: with R2 that is one round trip for the whole text.
      await Promise.all([...new Set(glyphs)].map((glyph) => load(glyph, 0, loaded)));
      return new Map(glyphs.map((glyph) => [glyph, loaded.get(glyph) ?? []]));
    },
    get retainedBytes() {
      return tableBytes + cachedPoints * BYTES_PER_POINT;
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

/** The glyphs a composite glyph is made of (none for a simple glyph): they must be decoded first. */
function componentsOf(reader: Reader, data: Range, glyph: number): number[] {
  if (data.length === 0 || reader.i16(data.offset, data, `glyph ${glyph}'s header`) >= 0) return [];
  const what = `composite glyph ${glyph}`;
  const components: number[] = [];
  let at = data.offset + 10;
  let flags: number;
  do {
    flags = reader.u16(at, data, what);
    components.push(reader.u16(at + 2, data, what));
    at += 4 + (flags & ARG_1_AND_2_ARE_WORDS ? 4 : 2);
    if (flags & WE_HAVE_A_SCALE) at += 2;
    else if (flags & WE_HAVE_AN_X_AND_Y_SCALE) at += 4;
    else if (flags & WE_HAVE_A_TWO_BY_TWO) at += 8;
  } while (flags & MORE_COMPONENTS);
  return components;
}

/** Decodes one glyph; `component` gives the contours of a composite's parts, decoded before it. */
function decodeGlyph(
  reader: Reader,
  data: Range,
  glyph: number,
  component: (glyph: number) => readonly Contour[],
): Contour[] {
  if (data.length === 0) return [];
  const numberOfContours = reader.i16(data.offset, data, `glyph ${glyph}'s header`);
  if (numberOfContours >= 0) return decodeSimple(reader, data, glyph, numberOfContours);
  return decodeComposite(reader, data, glyph, component);
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
  component: (glyph: number) => readonly Contour[],
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

    const source = component(child);
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
