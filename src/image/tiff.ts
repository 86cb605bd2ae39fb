/**
 * What planning needs of a TIFF's first directory (IFD0): its pixel layout, to refuse variants
 * the engine cannot decode before anything is read, and the sizes libtiff will hold (the largest
 * compressed strip or tile, the directory's tag data). Never throws: a field it cannot read is
 * absent, and libtiff in the engine has the last word on damage.
 */
export interface TiffLayout {
  readonly compression: number;
  readonly photometric?: number;
  readonly bitsPerSample: number;
  readonly samplesPerPixel: number;
  readonly planar: number;
  readonly sampleFormat: number;
  readonly extraSamples: number;
  readonly inkSet: number;
  /** Tiles, when set; otherwise strips of `rowsPerStrip` rows. */
  readonly tile?: { readonly width: number; readonly height: number };
  readonly rowsPerStrip: number;
  /** Strips or tiles, and the byte count of the largest. */
  readonly chunks: number;
  readonly largestChunk: number;
  /** Bytes of every tag's values (libtiff reads the whole directory into memory). */
  readonly tagBytes: number;
  readonly iccBytes: number;
}

const TYPE_SIZES: Record<number, number> = {
  1: 1,
  2: 1,
  3: 2,
  4: 4,
  5: 8,
  6: 1,
  7: 1,
  8: 2,
  9: 4,
  10: 8,
  11: 4,
  12: 8,
  13: 4,
  16: 8,
  17: 8,
  18: 8,
};
const MAX_ENTRIES = 1024;

export function readTiffLayout(bytes: Uint8Array): TiffLayout | undefined {
  if (bytes.length < 8) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const little = view.getUint16(0) === 0x4949;
  const ifd = view.getUint32(4, little);
  if (ifd < 8 || ifd + 2 > bytes.length) return undefined;
  const first = new Map<number, number>();
  const largest = new Map<number, number>();
  const counts = new Map<number, number>();
  let tagBytes = 0;
  const entries = Math.min(view.getUint16(ifd, little), MAX_ENTRIES);
  for (let i = 0; i < entries; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > bytes.length) break;
    const tag = view.getUint16(entry, little);
    const type = view.getUint16(entry + 2, little);
    const count = view.getUint32(entry + 4, little);
    const size = TYPE_SIZES[type];
    if (!size || count === 0) continue;
    tagBytes += size * count;
    counts.set(tag, count);
    if (type !== 3 && type !== 4) continue;
    const at = size * count <= 4 ? entry + 8 : view.getUint32(entry + 8, little);
    const read = (k: number) =>
      type === 3 ? view.getUint16(at + 2 * k, little) : view.getUint32(at + 4 * k, little);
    const readable = Math.min(count, Math.floor((bytes.length - at) / size));
    if (at + size > bytes.length) continue;
    first.set(tag, read(0));
    // Byte counts of strips (279) and tiles (325): the largest one is read whole.
    if (tag === 279 || tag === 325) {
      let most = 0;
      for (let k = 0; k < readable; k++) most = Math.max(most, read(k));
      largest.set(tag, most);
    }
  }
  const tiled = first.has(322) && first.has(323);
  const chunkTag = tiled ? 325 : 279;
  return {
    compression: first.get(259) ?? 1,
    photometric: first.get(262),
    bitsPerSample: first.get(258) ?? 1,
    samplesPerPixel: first.get(277) ?? 1,
    planar: first.get(284) ?? 1,
    sampleFormat: first.get(339) ?? 1,
    extraSamples: counts.get(338) ?? 0,
    inkSet: first.get(332) ?? 1,
    tile: tiled ? { width: first.get(322) ?? 0, height: first.get(323) ?? 0 } : undefined,
    rowsPerStrip: first.get(278) ?? 2 ** 32 - 1,
    chunks: counts.get(chunkTag) ?? 0,
    largestChunk: largest.get(chunkTag) ?? 0,
    tagBytes,
    iccBytes: counts.get(34675) ?? 0,
  };
}

const COMPRESSIONS: Record<number, string> = {
  2: "CCITT modified Huffman",
  3: "CCITT Group 3 fax",
  4: "CCITT Group 4 fax",
  6: "old-style JPEG",
  32809: "ThunderScan",
  32908: "Pixar",
  32909: "Pixar log",
  32947: "DCS",
  34661: "JBIG",
  34676: "SGI LogLuv",
  34677: "SGI LogLuv",
  34712: "JPEG 2000",
  34887: "LERC",
  34925: "LZMA",
  50000: "Zstandard",
  50001: "WebP",
  50002: "JPEG XL",
};

const PHOTOMETRICS: Record<number, string> = {
  4: "transparency mask",
  8: "CIE L*a*b*",
  9: "ICC L*a*b*",
  10: "ITU L*a*b*",
  32803: "colour filter array (raw)",
  32844: "LogL",
  32845: "LogLuv",
  34892: "linear raw",
};

/** Colour samples per pixel: 1 grey or palette, 3 RGB or YCbCr, 4 CMYK, 0 anything else. */
export function tiffColours(layout: TiffLayout): number {
  const kind = layout.photometric ?? (layout.samplesPerPixel >= 3 ? 2 : 1);
  return kind <= 1 || kind === 3 ? 1 : kind === 2 || kind === 6 ? 3 : kind === 5 ? 4 : 0;
}

/** The compressions the engine's libtiff decodes: none, LZW, JPEG, Deflate (both codes), PackBits. */
const DECODED = new Set([1, 5, 7, 8, 32946, 32773]);

/**
 * Why the engine cannot decode this TIFF, naming the variant, or undefined when it can. In step
 * with wasm/src/codecs/tiff.c's read_layout.
 */
export function unsupportedTiff(layout: TiffLayout): string | undefined {
  const { compression, photometric, bitsPerSample: bits, samplesPerPixel: samples } = layout;
  if (!DECODED.has(compression)) {
    const name = COMPRESSIONS[compression];
    return `TIFF with ${name ? `${name} compression` : `compression ${compression}`}`;
  }
  if (layout.planar !== 1) return "TIFF with separate colour planes (PlanarConfiguration 2)";
  if (layout.sampleFormat === 3) return "floating-point TIFF";
  if (layout.sampleFormat !== 1) return "TIFF with signed or complex samples";
  const kind = photometric ?? (samples >= 3 ? 2 : 1);
  if (kind === 6 && compression !== 7) return "YCbCr TIFF without JPEG compression";
  if (kind === 5 && layout.inkSet !== 1) return "TIFF with inks other than CMYK";
  const colours = tiffColours(layout);
  if (colours === 0) return `${PHOTOMETRICS[kind] ?? `photometric ${kind}`} TIFF`;
  const lowBits = colours === 1 && samples === 1 && (bits === 1 || bits === 2 || bits === 4);
  if (!(bits === 8 || bits === 16 || lowBits)) return `TIFF with ${bits} bits per sample`;
  if (kind === 3 && bits === 16) return "16-bit palette TIFF";
  if (samples < colours) return "TIFF with fewer samples than its colours need";
  return undefined;
}
