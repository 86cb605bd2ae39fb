import { badRequest } from "../errors";
import { type Exif, NO_EXIF, readExif } from "./exif";
import type { ImageFormat } from "./format";
import { HeifDamaged, type HeifLayout, readHeifLayout } from "./heif";
import { readTiffLayout, type TiffLayout, tiffColours } from "./tiff";

/** What can be known about a source image without decoding its pixels. */
export interface ImageHeader {
  readonly format: ImageFormat;
  /** Stored dimensions, before any EXIF orientation. */
  readonly width: number;
  readonly height: number;
  readonly frames: number;
  readonly exif: Exif;
  /** The pixels may have transparency (an alpha channel or a transparent colour); JPEG never. */
  readonly hasAlpha: boolean;
  /** Estimated IJG quality (1..100) of a JPEG source, from its luminance quantisation table. */
  readonly jpegQuality?: number;
  /** Colour components of a JPEG source (1 grey, 3 YCbCr/RGB, 4 CMYK/YCCK). */
  readonly jpegComponents?: number;
  /** 8x8 DCT blocks of a JPEG source, over all its components. */
  readonly jpegBlocks?: number;
  /**
   * A JPEG in several scans: progressive, or baseline with components in separate scans. Its
   * decoder must hold every block's coefficients (128 bytes each) until the last scan.
   */
  readonly jpegMultiScan?: boolean;
  /**
   * A progressive Huffman JPEG (SOF2) of 8-bit grey or YCbCr with integral sampling factors: at a
   * 1/8 scale its DC scans alone give the thumbnail (wasm/src/codecs/jpeg_dc.c).
   */
  readonly jpegDcScalable?: boolean;
  /** Three components sampled as 4:2:0 (luma 2x2, each chroma 1x1): what the JPEG encoder writes. */
  readonly jpegSampling420?: boolean;
  /**
   * Bytes of the embedded ICC profile, 0 without one. Its decoder holds it (a JPEG's chunks twice:
   * as markers, then joined) while colour management converts the rows; profiles run to megabytes.
   */
  readonly iccBytes?: number;
  /**
   * A GIF with a frame disposed of by restoring the previous screen (disposal method 3): its
   * decoder then holds a second copy of the screen while an animation is decoded.
   */
  readonly gifRestoresPrevious?: boolean;
  /** A run-length encoded BMP (RLE8, RLE4): its decoder expands it to a byte per pixel first. */
  readonly bmpRle?: boolean;
  /** A PNG's IHDR: colour type (0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA), bit depth, Adam7. */
  readonly png?: {
    readonly colourType: number;
    readonly bitDepth: number;
    readonly interlaced: boolean;
    /** The longest chunk before the image data: libpng's progressive reader holds it whole. */
    readonly largestChunk: number;
  };
  /** A TIFF's first directory: layout and the sizes libtiff holds. */
  readonly tiff?: TiffLayout;
  /**
   * A WebP source's bitstream: lossy (VP8, `webpAlpha` when an ALPH chunk comes with it), lossless
   * (VP8L) or an animation (ANIM/ANMF, whatever its frames are); and the file's length, which its
   * decoder holds whole.
   */
  readonly webpKind?: "lossy" | "lossless" | "animated";
  readonly webpAlpha?: boolean;
  readonly fileBytes?: number;
  /**
   * AVIF and HEIC: the container's layout (src/image/heif.ts): the primary image, single or a
   * grid of tiles, its sample format, its alpha image, its clean aperture and irot/imir.
   */
  readonly heif?: HeifLayout;
}

const damaged = (why: string) => badRequest(`The image file may be damaged: ${why}.`);

/** Sniffs the format from magic bytes and reads dimensions, frames and EXIF. Never decodes pixels. */
export function readHeader(bytes: Uint8Array): ImageHeader {
  if (bytes.length === 0) throw damaged("the object is empty");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ascii = (at: number, length: number) => String.fromCharCode(...bytes.subarray(at, at + length));

  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff)
    return readJpeg(bytes, view);
  if (bytes.length >= 8 && ascii(0, 8) === "\x89PNG\r\n\x1a\n") return readPng(bytes, view);
  if (bytes.length >= 12 && ascii(0, 4) === "RIFF" && ascii(8, 4) === "WEBP") return readWebp(bytes, view);
  if (bytes.length >= 12 && ascii(4, 4) === "ftyp") return readIsoBmff(bytes, view);
  if (bytes.length >= 6 && (ascii(0, 6) === "GIF87a" || ascii(0, 6) === "GIF89a"))
    return readGif(bytes, view);
  if (bytes.length >= 26 && ascii(0, 2) === "BM") return readBmp(view);
  if (bytes.length >= 8 && (ascii(0, 4) === "II*\0" || ascii(0, 4) === "MM\0*")) {
    const exif = readExif(bytes);
    if (!exif.tiffSize) throw damaged("TIFF without ImageWidth/ImageLength");
    const tiff = readTiffLayout(bytes);
    const colours = tiff ? tiffColours(tiff) : 3;
    return header("tiff", exif.tiffSize.width, exif.tiffSize.height, {
      exif,
      tiff,
      // An extra sample after the colours is alpha (CMYK's are dropped).
      hasAlpha: tiff ? colours < 4 && tiff.samplesPerPixel > colours : true,
      iccBytes: tiff?.iccBytes ?? 0,
    });
  }
  throw badRequest(
    "The object is not an image in a format this service reads (JPEG, PNG, WebP, AVIF, GIF, BMP).",
  );
}

function header(
  format: ImageFormat,
  width: number,
  height: number,
  extra: Partial<Omit<ImageHeader, "format" | "width" | "height">> = {},
): ImageHeader {
  if (!(width > 0 && height > 0)) throw damaged(`${format} header gives no valid size`);
  // Unknown is taken as transparent: planning then never drops an alpha channel that is there.
  return { format, width, height, frames: 1, exif: NO_EXIF, hasAlpha: format !== "jpg", ...extra };
}

const SOF_MARKERS = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);
const PROGRESSIVE_SOF_MARKERS = new Set([0xc2, 0xc6, 0xca, 0xce]);

interface JpegFrame {
  readonly width: number;
  readonly height: number;
  readonly components: number;
  readonly blocks: number;
  readonly progressive: boolean;
  readonly dcScalable: boolean;
  readonly sampling420: boolean;
}

function readJpeg(bytes: Uint8Array, view: DataView): ImageHeader {
  let exif = NO_EXIF;
  let lumaTable: number[] | undefined;
  let frame: JpegFrame | undefined;
  let iccBytes = 0;
  let pos = 2;
  while (pos + 4 <= bytes.length) {
    if (bytes[pos] !== 0xff) throw damaged("JPEG marker expected");
    const marker = bytes[pos + 1];
    if (marker === 0xff) {
      pos++;
      continue;
    }
    const length = view.getUint16(pos + 2);
    const segment = pos + 4;
    const end = pos + 2 + length;
    if (length < 2 || end > bytes.length) throw damaged("JPEG segment runs past the end of the file");
    if (marker === 0xda) {
      if (!frame) throw damaged("JPEG scan before frame header");
      if (!hasEndOfImage(bytes, end)) throw damaged("JPEG data is truncated");
      return header("jpg", frame.width, frame.height, {
        exif,
        jpegComponents: frame.components,
        jpegBlocks: frame.blocks,
        jpegMultiScan: frame.progressive || bytes[segment] < frame.components,
        jpegDcScalable: frame.dcScalable,
        jpegSampling420: frame.sampling420,
        jpegQuality: lumaTable && estimateQuality(lumaTable),
        iccBytes,
      });
    }
    if (
      marker === 0xe1 &&
      length >= 8 &&
      String.fromCharCode(...bytes.subarray(segment, segment + 6)) === "Exif\0\0"
    ) {
      exif = readExif(bytes.subarray(segment + 6, end));
    } else if (marker === 0xe2 && length >= 16 && textAt(bytes, segment, 12) === "ICC_PROFILE\0") {
      iccBytes += length - 16;
    } else if (marker === 0xdb) {
      lumaTable ??= readLumaTable(bytes, segment, end);
    } else if (SOF_MARKERS.has(marker) && length >= 8) {
      frame = readJpegFrame(bytes, view, segment, end, PROGRESSIVE_SOF_MARKERS.has(marker), marker);
    }
    pos = end;
  }
  throw damaged("JPEG data is truncated");
}

const textAt = (bytes: Uint8Array, at: number, length: number) =>
  String.fromCharCode(...bytes.subarray(at, at + length));

function readJpegFrame(
  bytes: Uint8Array,
  view: DataView,
  segment: number,
  end: number,
  progressive: boolean,
  marker: number,
): JpegFrame {
  const height = view.getUint16(segment + 1);
  const width = view.getUint16(segment + 3);
  const components = bytes[segment + 5];
  if (segment + 6 + 3 * components > end) throw damaged("JPEG frame header is too short");
  const sampling = Array.from({ length: components }, (_, i) => bytes[segment + 7 + 3 * i]);
  const maxH = Math.max(1, ...sampling.map((factors) => factors >> 4));
  const maxV = Math.max(1, ...sampling.map((factors) => factors & 15));
  let blocks = 0;
  for (const factors of sampling) {
    const columns = Math.ceil((width * (factors >> 4)) / maxH);
    const rows = Math.ceil((height * (factors & 15)) / maxV);
    blocks += Math.ceil(columns / 8) * Math.ceil(rows / 8);
  }
  const integral = sampling.every((factors) => maxH % (factors >> 4) === 0 && maxV % (factors & 15) === 0);
  const dcScalable =
    marker === 0xc2 && bytes[segment] === 8 && (components === 1 || components === 3) && integral;
  const sampling420 =
    components === 3 && sampling[0] === 0x22 && sampling[1] === 0x11 && sampling[2] === 0x11;
  return { width, height, components, blocks, progressive, dcScalable, sampling420 };
}

/** Entropy-coded data never contains FF D9, so a missing EOI after the first scan means truncation. */
function hasEndOfImage(bytes: Uint8Array, scanStart: number): boolean {
  for (let i = bytes.length - 2; i >= scanStart; i--) {
    if (bytes[i] === 0xff && bytes[i + 1] === 0xd9) return true;
  }
  return false;
}

function readLumaTable(bytes: Uint8Array, start: number, end: number): number[] | undefined {
  let pos = start;
  while (pos < end) {
    const precision = bytes[pos] >> 4;
    const id = bytes[pos] & 0x0f;
    const step = precision ? 2 : 1;
    if (pos + 1 + 64 * step > end) return undefined;
    if (id === 0) {
      return Array.from({ length: 64 }, (_, i) =>
        precision ? (bytes[pos + 1 + 2 * i] << 8) | bytes[pos + 2 + 2 * i] : bytes[pos + 1 + i],
      );
    }
    pos += 1 + 64 * step;
  }
  return undefined;
}

/** The IJG standard luminance quantisation table (ITU T.81 Annex K), which quality scales. */
const STANDARD_LUMA = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22,
  29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103,
  121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];
const STANDARD_LUMA_SUM = STANDARD_LUMA.reduce((a, b) => a + b, 0);

/**
 * Inverts libjpeg's quality scaling: a table is the standard one scaled by S% where
 * S = 5000/q for q < 50 and S = 200 - 2q otherwise.
 */
function estimateQuality(table: number[]): number {
  const scale = (table.reduce((a, b) => a + b, 0) * 100) / STANDARD_LUMA_SUM;
  const quality = scale <= 100 ? (200 - scale) / 2 : 5000 / scale;
  return Math.min(100, Math.max(1, Math.round(quality)));
}

function readPng(bytes: Uint8Array, view: DataView): ImageHeader {
  if (bytes.length < 33 || String.fromCharCode(...bytes.subarray(12, 16)) !== "IHDR")
    throw damaged("PNG without IHDR");
  let frames = 1;
  // Colour types 4 and 6 carry alpha; a tRNS chunk makes a colour (or palette entries) transparent.
  let hasAlpha = bytes[25] === 4 || bytes[25] === 6;
  let largestChunk = 0;
  let iccBytes = 0;
  let pos = 8;
  while (pos + 12 <= bytes.length) {
    const length = view.getUint32(pos);
    const type = String.fromCharCode(...bytes.subarray(pos + 4, pos + 8));
    if (type === "acTL" && length >= 8 && pos + 16 <= bytes.length)
      frames = Math.max(1, view.getUint32(pos + 8));
    if (type === "tRNS") hasAlpha = true;
    if (type === "IDAT" || type === "IEND") break;
    if (type === "iCCP") iccBytes = pngProfileBound(length);
    largestChunk = Math.max(largestChunk, length);
    pos += 12 + length;
  }
  return header("png", view.getUint32(16), view.getUint32(20), {
    frames,
    hasAlpha,
    iccBytes,
    png: { colourType: bytes[25], bitDepth: bytes[24], interlaced: bytes[28] === 1, largestChunk },
  });
}

/**
 * The most bytes a PNG's deflated colour profile (an iCCP chunk of `length` bytes) may inflate to
 * in the engine: profiles deflate to a quarter or more of their size (LUT profiles least), 32x is
 * generous. The decoder gives libpng this as its chunk limit, so a profile that would inflate
 * further is dropped (its colours then left as they are) instead of outgrowing the plan.
 */
export const pngProfileBound = (length: number) => Math.max(64 * 1024, 32 * length);

function readWebp(bytes: Uint8Array, view: DataView): ImageHeader {
  let width = 0;
  let height = 0;
  let frames = 0;
  let exif = NO_EXIF;
  let hasAlpha = false;
  let iccBytes = 0;
  let webpKind: ImageHeader["webpKind"];
  let webpAlpha = false;
  let pos = 12;
  while (pos + 8 <= bytes.length) {
    const type = String.fromCharCode(...bytes.subarray(pos, pos + 4));
    const length = view.getUint32(pos + 4, true);
    const data = pos + 8;
    if (type === "VP8 " || type === "VP8L") webpKind ??= type === "VP8L" ? "lossless" : "lossy";
    if (type === "ANIM" || type === "ANMF") webpKind = "animated";
    if (type === "ALPH") webpAlpha = true;
    if (type === "ICCP") iccBytes = length;
    if (type === "VP8X" && data + 10 <= bytes.length) {
      hasAlpha = (bytes[data] & 0x10) !== 0;
      width = 1 + (view.getUint32(data + 4, true) & 0xffffff);
      height = 1 + (view.getUint32(data + 7, true) & 0xffffff);
    } else if (type === "VP8 " && data + 10 <= bytes.length && !width) {
      width = view.getUint16(data + 6, true) & 0x3fff;
      height = view.getUint16(data + 8, true) & 0x3fff;
    } else if (type === "VP8L" && data + 5 <= bytes.length && !width) {
      const bits = view.getUint32(data + 1, true);
      width = 1 + (bits & 0x3fff);
      height = 1 + ((bits >> 14) & 0x3fff);
      hasAlpha = ((bits >>> 28) & 1) === 1;
    } else if (type === "ANMF") {
      frames++;
    } else if (type === "EXIF" && data + length <= bytes.length) {
      const payload = bytes.subarray(data, data + length);
      const start = String.fromCharCode(...payload.subarray(0, 6)) === "Exif\0\0" ? 6 : 0;
      exif = readExif(payload.subarray(start));
    }
    pos = data + length + (length & 1);
  }
  return header("webp", width, height, {
    frames: Math.max(1, frames),
    exif,
    hasAlpha,
    iccBytes,
    webpKind,
    webpAlpha,
    fileBytes: bytes.length,
  });
}

const AVIF_BRANDS = new Set(["avif", "avis"]);
const HEIF_BRANDS = new Set(["heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1"]);

/** AVIF and HEIC: HEIF files (ISO base media), their meta box read by src/image/heif.ts. */
function readIsoBmff(bytes: Uint8Array, view: DataView): ImageHeader {
  const ftypLength = view.getUint32(0);
  const brands: string[] = [];
  for (let at = 8; at + 4 <= Math.min(ftypLength, bytes.length); at += 4) {
    if (at !== 12) brands.push(String.fromCharCode(...bytes.subarray(at, at + 4)));
  }
  const format = brands.some((b) => AVIF_BRANDS.has(b))
    ? "avif"
    : brands.some((b) => HEIF_BRANDS.has(b))
      ? "heic"
      : undefined;
  if (!format) throw badRequest("The object is an ISO media file but not an AVIF or HEIF image.");

  // The size is the primary image's clean aperture, before irot/imir (which the plan applies).
  let layout: HeifLayout;
  try {
    layout = readHeifLayout(bytes);
  } catch (error) {
    if (error instanceof HeifDamaged) throw damaged(`${format.toUpperCase()} container: ${error.message}`);
    throw error;
  }
  return header(format, layout.crop.width, layout.crop.height, {
    hasAlpha: layout.alpha !== undefined,
    iccBytes: layout.iccBytes,
    heif: layout,
  });
}

/** BMP: OS/2's 12-byte header has 16-bit sides; alpha only where a mask declares it. */
function readBmp(view: DataView): ImageHeader {
  const infoSize = view.getUint32(14, true);
  if (infoSize === 12)
    return header("bmp", view.getUint16(18, true), view.getUint16(20, true), { hasAlpha: false });
  const bits = view.byteLength >= 30 ? view.getUint16(28, true) : 0;
  const compression = view.byteLength >= 34 ? view.getUint32(30, true) : 0;
  const alphaMask = compression === 6 || (compression === 3 && infoSize >= 56);
  return header("bmp", view.getInt32(18, true), Math.abs(view.getInt32(22, true)), {
    hasAlpha: bits === 32 && alphaMask,
    bmpRle: compression === 1 || compression === 2,
  });
}

function readGif(bytes: Uint8Array, view: DataView): ImageHeader {
  const width = view.getUint16(6, true);
  const height = view.getUint16(8, true);
  const { frames, restoresPrevious } = countGifFrames(bytes);
  return header("gif", width, height, { frames: Math.max(1, frames), gifRestoresPrevious: restoresPrevious });
}

function countGifFrames(bytes: Uint8Array): { frames: number; restoresPrevious: boolean } {
  const skipSubBlocks = (at: number) => {
    let pos = at;
    while (pos < bytes.length && bytes[pos] !== 0) pos += bytes[pos] + 1;
    return pos + 1;
  };
  let pos = 13;
  if (bytes.length > 10 && bytes[10] & 0x80) pos += 3 << ((bytes[10] & 7) + 1);
  let frames = 0;
  let restoresPrevious = false;
  while (pos < bytes.length) {
    const block = bytes[pos];
    // A Graphic Control Extension: its packed byte holds the disposal method in bits 2-4.
    if (
      block === 0x21 &&
      bytes[pos + 1] === 0xf9 &&
      pos + 3 < bytes.length &&
      ((bytes[pos + 3] >> 2) & 7) === 3
    )
      restoresPrevious = true;
    if (block === 0x2c) {
      frames++;
      const packed = bytes[pos + 9];
      pos += 10;
      if (packed & 0x80) pos += 3 << ((packed & 7) + 1);
      pos = skipSubBlocks(pos + 1);
    } else if (block === 0x21) {
      pos = skipSubBlocks(pos + 2);
    } else {
      break;
    }
  }
  return { frames, restoresPrevious };
}
