/**
 * The HEIF container that AVIF and HEIC share (ISO/IEC 23008-12): what planning needs from the
 * `meta` box without decoding a pixel. wasm/src/codecs/heif_container.c reads the same boxes to
 * decode: keep the two in step (the primary item, its grid, ispe, clap, irot/imir, colr, the alpha
 * auxiliary image and the codec configuration).
 */

/** One coded image (a single item or a grid of tiles), as the engine's decoder will hold it. */
export interface HeifImageLayout {
  readonly grid: boolean;
  readonly rows: number;
  readonly columns: number;
  /** Of the image: a grid's output size, or the item's ispe. */
  readonly width: number;
  readonly height: number;
  readonly tileWidth: number;
  readonly tileHeight: number;
  /** Sample bits (8, 10, 12), and the chroma layout from av1C/hvcC. */
  readonly bits: number;
  readonly monochrome: boolean;
  readonly subsampleX: boolean;
  readonly subsampleY: boolean;
  /** Coded bytes of the largest tile (or of the item). */
  readonly largestTileBytes: number;
}

export interface HeifLayout {
  /** The primary image's coding: av01 (AVIF), hvc1 (HEIC), or what else was found. */
  readonly codec: string;
  readonly image: HeifImageLayout;
  readonly alpha?: HeifImageLayout;
  /** The meta box's bytes, held while decoding, and how many items and references it has. */
  readonly metaBytes: number;
  readonly items: number;
  /** The item entries iinf and iloc declare together: the engine makes room for that many. */
  readonly itemCapacity: number;
  readonly references: number;
  /** The clean aperture (clap): the window of the image that is shown. */
  readonly crop: { readonly x: number; readonly y: number; readonly width: number; readonly height: number };
  /**
   * irot/imir as an EXIF orientation (1-8). HEIF makes them part of the image: they are always
   * applied, and an Exif Orientation in the file (iPhones write one that repeats irot) is not.
   */
  readonly orientation: number;
  /** colr prof/rICC. */
  readonly iccBytes: number;
}

const ALPHA_URNS = new Set(["urn:mpeg:mpegB:cicp:systems:auxiliary:alpha", "urn:mpeg:hevc:2015:auxid:1"]);

interface Box {
  readonly type: string;
  /** Payload start and end (after the header). */
  readonly start: number;
  readonly end: number;
}

interface Item {
  id: number;
  type: string;
  size: number;
  properties: number[];
  construction: number;
  offsets: { offset: number; length: number }[];
}

interface Reference {
  readonly type: string;
  readonly from: number;
  readonly to: number;
  readonly index: number;
}

class Damaged extends Error {}

/** Parses the container; throws HeifDamaged naming what is wrong. */
export function readHeifLayout(bytes: Uint8Array): HeifLayout {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fourcc = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  const need = (condition: boolean, why: string) => {
    if (!condition) throw new Damaged(why);
  };
  const uint = (at: number, size: number, end: number): number => {
    need(size >= 0 && size <= 8 && at + size <= end, "a box ends early");
    let value = 0;
    for (let i = 0; i < size; i++) value = value * 256 + bytes[at + i];
    return value;
  };
  const boxes = (start: number, end: number): Box[] => {
    const list: Box[] = [];
    let pos = start;
    while (pos + 8 <= end) {
      let size = view.getUint32(pos);
      let header = 8;
      if (size === 1) {
        size = uint(pos + 8, 8, end);
        header = 16;
      } else if (size === 0) {
        size = end - pos;
      }
      need(size >= header && pos + size <= end, "a box is larger than its parent");
      list.push({ type: fourcc(pos + 4), start: pos + header, end: pos + size });
      pos += size;
    }
    return list;
  };

  const top = boxes(0, bytes.length);
  const meta = top.find((box) => box.type === "meta");
  need(meta !== undefined, "no meta box");
  const metaBox = meta as Box;
  const children = boxes(metaBox.start + 4, metaBox.end);
  const items = new Map<number, Item>();
  const item = (id: number): Item => {
    let found = items.get(id);
    if (!found) {
      found = { id, type: "", size: 0, properties: [], construction: 0, offsets: [] };
      items.set(id, found);
    }
    return found;
  };
  const references: Reference[] = [];
  const properties: Box[] = [];
  let primary = -1;
  let itemCapacity = 1;
  let idat: Box | undefined;
  for (const box of children) {
    const version = box.end > box.start ? bytes[box.start] : 0;
    if (box.type === "pitm") {
      primary = uint(box.start + 4, version === 0 ? 2 : 4, box.end);
    } else if (box.type === "iinf") {
      itemCapacity += uint(box.start + 4, version === 0 ? 2 : 4, box.end);
      const first = box.start + 4 + (version === 0 ? 2 : 4);
      for (const entry of boxes(first, box.end)) {
        if (entry.type !== "infe") continue;
        const entryVersion = bytes[entry.start];
        if (entryVersion < 2) continue;
        const idSize = entryVersion === 2 ? 2 : 4;
        const id = uint(entry.start + 4, idSize, entry.end);
        need(entry.start + 6 + idSize + 4 <= entry.end, "an item entry ends early");
        item(id).type = fourcc(entry.start + 6 + idSize);
      }
    } else if (box.type === "iloc") {
      let at = box.start + 4;
      const sizes = uint(at, 2, box.end);
      at += 2;
      const offsetSize = sizes >> 12;
      const lengthSize = (sizes >> 8) & 15;
      const baseSize = (sizes >> 4) & 15;
      const indexSize = version >= 1 ? sizes & 15 : 0;
      const count = uint(at, version < 2 ? 2 : 4, box.end);
      at += version < 2 ? 2 : 4;
      itemCapacity += count;
      for (let i = 0; i < count; i++) {
        const id = uint(at, version < 2 ? 2 : 4, box.end);
        at += version < 2 ? 2 : 4;
        const entry = item(id);
        if (version >= 1) {
          entry.construction = uint(at, 2, box.end) & 15;
          at += 2;
        }
        at += 2; // data reference index
        const base = uint(at, baseSize, box.end);
        at += baseSize;
        const extents = uint(at, 2, box.end);
        at += 2;
        entry.size = 0;
        entry.offsets = [];
        for (let e = 0; e < extents; e++) {
          at += indexSize;
          const offset = base + uint(at, offsetSize, box.end);
          at += offsetSize;
          const length = uint(at, lengthSize, box.end);
          at += lengthSize;
          entry.offsets.push({ offset, length });
          entry.size += length;
        }
      }
    } else if (box.type === "iref") {
      const idSize = version === 0 ? 2 : 4;
      for (const entry of boxes(box.start + 4, box.end)) {
        const from = uint(entry.start, idSize, entry.end);
        const count = uint(entry.start + idSize, 2, entry.end);
        for (let i = 0; i < count; i++) {
          const to = uint(entry.start + idSize + 2 + i * idSize, idSize, entry.end);
          references.push({ type: entry.type, from, to, index: i });
        }
      }
    } else if (box.type === "iprp") {
      const parts = boxes(box.start, box.end);
      const ipco = parts.find((part) => part.type === "ipco");
      if (ipco) properties.push(...boxes(ipco.start, ipco.end));
      const ipma = parts.find((part) => part.type === "ipma");
      if (ipma) {
        const ipmaVersion = bytes[ipma.start];
        const wide = (bytes[ipma.start + 3] & 1) === 1;
        let at = ipma.start + 4;
        const count = uint(at, 4, ipma.end);
        at += 4;
        for (let i = 0; i < count; i++) {
          const id = uint(at, ipmaVersion < 1 ? 2 : 4, ipma.end);
          at += ipmaVersion < 1 ? 2 : 4;
          const associations = uint(at, 1, ipma.end);
          at += 1;
          const entry = item(id);
          for (let a = 0; a < associations; a++) {
            const value = wide ? uint(at, 2, ipma.end) & 0x7fff : uint(at, 1, ipma.end) & 0x7f;
            at += wide ? 2 : 1;
            if (value > 0) entry.properties.push(value);
          }
        }
      }
    } else if (box.type === "idat") {
      idat = box;
    }
  }

  const propertyOf = (entry: Item, type: string): Box | undefined =>
    entry.properties.map((index) => properties[index - 1]).find((box) => box?.type === type);
  const ispe = (entry: Item) => {
    const box = propertyOf(entry, "ispe");
    need(box !== undefined, "an image without its size (ispe)");
    const at = (box as Box).start + 4;
    return { width: uint(at, 4, (box as Box).end), height: uint(at + 4, 4, (box as Box).end) };
  };
  const itemBytes = (entry: Item): Uint8Array => {
    const parts = entry.offsets.map(({ offset, length }) => {
      const start = entry.construction === 1 ? (idat?.start ?? Number.NaN) + offset : offset;
      need(start >= 0 && start + length <= bytes.length, "an item's data lies outside the file");
      return bytes.subarray(start, start + length);
    });
    const joined = new Uint8Array(entry.size);
    let at = 0;
    for (const part of parts) {
      joined.set(part, at);
      at += part.length;
    }
    return joined;
  };

  const sampleFormat = (entry: Item) => {
    const av1C = propertyOf(entry, "av1C");
    if (av1C && av1C.end - av1C.start >= 4) {
      const flags = bytes[av1C.start + 2];
      const high = (flags & 0x40) !== 0;
      const twelve = (flags & 0x20) !== 0;
      return {
        bits: high ? (twelve ? 12 : 10) : 8,
        monochrome: (flags & 0x10) !== 0,
        subsampleX: (flags & 0x08) !== 0,
        subsampleY: (flags & 0x04) !== 0,
      };
    }
    const hvcC = propertyOf(entry, "hvcC");
    if (hvcC && hvcC.end - hvcC.start >= 19) {
      const chroma = bytes[hvcC.start + 16] & 3;
      return {
        bits: 8 + (bytes[hvcC.start + 17] & 7),
        monochrome: chroma === 0,
        subsampleX: chroma === 1 || chroma === 2,
        subsampleY: chroma === 1,
      };
    }
    return { bits: 8, monochrome: false, subsampleX: true, subsampleY: true };
  };

  const layoutOf = (entry: Item): HeifImageLayout => {
    if (entry.type === "grid") {
      const data = itemBytes(entry);
      need(data.length >= 8, "a grid description ends early");
      const wide = (data[1] & 1) === 1;
      const rows = data[2] + 1;
      const columns = data[3] + 1;
      need(data.length >= (wide ? 12 : 8), "a grid description ends early");
      const read = (at: number) =>
        wide ? new DataView(data.buffer).getUint32(at) : new DataView(data.buffer).getUint16(at);
      const width = read(4);
      const height = read(wide ? 8 : 6);
      const tiles = references
        .filter((ref) => ref.type === "dimg" && ref.from === entry.id)
        .sort((a, b) => a.index - b.index)
        .map((ref) => items.get(ref.to));
      need(
        tiles.length >= rows * columns && tiles.every((tile) => tile !== undefined),
        "a grid with a missing tile",
      );
      const first = tiles[0] as Item;
      const tile = ispe(first);
      need(
        tile.width * columns >= width && tile.height * rows >= height,
        "grid tiles that do not cover the image",
      );
      return {
        grid: true,
        rows,
        columns,
        width,
        height,
        tileWidth: tile.width,
        tileHeight: tile.height,
        ...sampleFormat(first),
        largestTileBytes: Math.max(...tiles.map((each) => (each as Item).size)),
      };
    }
    const { width, height } = ispe(entry);
    return {
      grid: false,
      rows: 1,
      columns: 1,
      width,
      height,
      tileWidth: width,
      tileHeight: height,
      ...sampleFormat(entry),
      largestTileBytes: entry.size,
    };
  };

  const main = items.get(primary);
  need(main !== undefined, "no primary image");
  const primaryItem = main as Item;
  const codec =
    primaryItem.type === "grid"
      ? (items.get(references.find((r) => r.type === "dimg" && r.from === primary)?.to ?? -1)?.type ?? "grid")
      : primaryItem.type;
  const image = layoutOf(primaryItem);

  let alpha: HeifImageLayout | undefined;
  for (const ref of references) {
    if (ref.type !== "auxl" || ref.to !== primary) continue;
    const candidate = items.get(ref.from);
    const auxC = candidate && propertyOf(candidate, "auxC");
    if (!candidate || !auxC) continue;
    const text = bytes.subarray(auxC.start + 4, auxC.end);
    const zero = text.indexOf(0);
    const urn = String.fromCharCode(...text.subarray(0, zero < 0 ? text.length : zero));
    if (!ALPHA_URNS.has(urn)) continue;
    alpha = layoutOf(candidate);
    break;
  }

  let crop = { x: 0, y: 0, width: image.width, height: image.height };
  const clap = propertyOf(primaryItem, "clap");
  if (clap) {
    const part = (at: number, signed: boolean) => {
      const n = signed ? view.getInt32(clap.start + at) : view.getUint32(clap.start + at);
      const d = view.getUint32(clap.start + at + 4);
      need(d !== 0, "a clean aperture with a zero denominator");
      return n / d;
    };
    need(clap.end - clap.start >= 32, "a clean aperture ends early");
    const cw = part(0, false);
    const ch = part(8, false);
    const dx = part(16, true);
    const dy = part(24, true);
    // As heif_container.c's read_clap: centred at the image's centre plus the offsets, rounded.
    const width = Math.floor(cw + 0.5);
    const height = Math.floor(ch + 0.5);
    const x = Math.trunc((image.width - cw) / 2 + dx + 0.5);
    const y = Math.trunc((image.height - ch) / 2 + dy + 0.5);
    need(
      width > 0 && height > 0 && x >= 0 && y >= 0 && x + width <= image.width && y + height <= image.height,
      "a clean aperture outside the image",
    );
    crop = { x, y, width, height };
  }

  // irot turns anticlockwise by quarter turns, then imir mirrors (axis 0: about the vertical axis).
  const irot = propertyOf(primaryItem, "irot");
  const imir = propertyOf(primaryItem, "imir");
  const turns = irot && irot.end > irot.start ? bytes[irot.start] & 3 : 0;
  const mirror = imir && imir.end > imir.start ? bytes[imir.start] & 1 : -1;
  const orientation = ORIENTATIONS[mirror + 1][turns];

  // colr prof/rICC on the primary item, or on a grid's first tile (as heif_container.c looks).
  const profileBytes = (entry: Item | undefined) => {
    for (const colr of (entry?.properties ?? []).map((index) => properties[index - 1])) {
      if (colr?.type !== "colr" || colr.end - colr.start < 4) continue;
      const kind = fourcc(colr.start);
      if (kind === "prof" || kind === "rICC") return colr.end - colr.start - 4;
    }
    return 0;
  };
  const firstTile = items.get(references.find((r) => r.type === "dimg" && r.from === primary)?.to ?? -1);
  const iccBytes = profileBytes(primaryItem) || (image.grid ? profileBytes(firstTile) : 0);

  return {
    codec,
    image,
    alpha,
    metaBytes: metaBox.end - (metaBox.start - 8),
    items: items.size,
    itemCapacity,
    references: references.length,
    crop,
    orientation,
    iccBytes,
  };
}

/**
 * EXIF orientations for [mirror + 1][anticlockwise quarter turns]: no mirror, then imir axis 0
 * (left and right swapped after the turn), then axis 1 (top and bottom swapped after it).
 */
const ORIENTATIONS = [
  [1, 8, 3, 6],
  [2, 7, 4, 5],
  [4, 5, 2, 7],
];

export { Damaged as HeifDamaged };
