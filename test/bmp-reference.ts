// An independent BMP codec for the tests, in JavaScript (24/32-bit, BI_RGB/BI_BITFIELDS): the
// service's own is in the engine (wasm/src/codecs/bmp.c).
import { hasTransparency, type Raster } from "../src/image/raster";

const badRequest = (message: string) => new Error(message);

const FILE_HEADER = 14;
const INFO_HEADER = 40;
/** BITMAPV4HEADER: needed to declare an alpha channel mask for 32-bit output. */
const V4_HEADER = 108;
const BI_RGB = 0;
const BI_BITFIELDS = 3;

/** Where each channel sits in a 32-bit pixel (little-endian BGRA unless the file says otherwise). */
interface ChannelMasks {
  readonly red: number;
  readonly green: number;
  readonly blue: number;
  readonly alpha: number;
}

const BGRA: ChannelMasks = { red: 0x00ff0000, green: 0x0000ff00, blue: 0x000000ff, alpha: 0xff000000 };

/** Uncompressed 24- and 32-bit BMP (BI_RGB or BI_BITFIELDS), bottom-up or top-down. */
export const bmpDecoder = {
  async decode(bytes: Uint8Array): Promise<Raster> {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const dataOffset = view.getUint32(10, true);
    const headerSize = view.getUint32(14, true);
    const width = view.getInt32(18, true);
    const rawHeight = view.getInt32(22, true);
    const bits = view.getUint16(28, true);
    const compression = view.getUint32(30, true);
    const height = Math.abs(rawHeight);
    if (bits !== 24 && bits !== 32)
      throw badRequest(`BMP with ${bits} bits per pixel is not supported (24 and 32 are).`);
    if (compression !== BI_RGB && !(compression === BI_BITFIELDS && bits === 32)) {
      throw badRequest("Compressed BMP is not supported.");
    }
    const masks = compression === BI_BITFIELDS ? readMasks(view, headerSize) : { ...BGRA, alpha: 0 };
    const stride = Math.ceil((width * bits) / 32) * 4;
    if (dataOffset + stride * height > bytes.length)
      throw badRequest("The image file may be damaged: BMP data is truncated.");

    const data = new Uint8ClampedArray(width * height * 4);
    const bytesPerPixel = bits / 8;
    for (let row = 0; row < height; row++) {
      const sourceRow = rawHeight > 0 ? height - 1 - row : row;
      let s = dataOffset + sourceRow * stride;
      let d = row * width * 4;
      for (let x = 0; x < width; x++, s += bytesPerPixel, d += 4) {
        if (bits === 24) {
          data[d] = bytes[s + 2];
          data[d + 1] = bytes[s + 1];
          data[d + 2] = bytes[s];
          data[d + 3] = 255;
        } else {
          const pixel = view.getUint32(s, true);
          data[d] = channel(pixel, masks.red);
          data[d + 1] = channel(pixel, masks.green);
          data[d + 2] = channel(pixel, masks.blue);
          data[d + 3] = masks.alpha ? channel(pixel, masks.alpha) : 255;
        }
      }
    }
    return { width, height, data };
  },
};

function readMasks(view: DataView, headerSize: number): ChannelMasks {
  const at = FILE_HEADER + INFO_HEADER;
  return {
    red: view.getUint32(at, true),
    green: view.getUint32(at + 4, true),
    blue: view.getUint32(at + 8, true),
    alpha: headerSize >= 56 ? view.getUint32(at + 12, true) : 0,
  };
}

/** Extracts a channel by mask and scales it to 8 bits. */
function channel(pixel: number, mask: number): number {
  if (!mask) return 0;
  const shift = 31 - Math.clz32(mask & -mask);
  const max = mask >>> shift;
  return Math.round((((pixel & mask) >>> shift) * 255) / max);
}

/** 24-bit BMP for opaque images; 32-bit with an alpha mask (V4 header) when there is transparency. */
export const bmpEncoder = {
  async encode(image: Raster, _options?: unknown): Promise<Uint8Array> {
    const alpha = hasTransparency(image);
    const bits = alpha ? 32 : 24;
    const infoSize = alpha ? V4_HEADER : INFO_HEADER;
    const stride = Math.ceil((image.width * bits) / 32) * 4;
    const dataOffset = FILE_HEADER + infoSize;
    const out = new Uint8Array(dataOffset + stride * image.height);
    const view = new DataView(out.buffer);
    out.set([0x42, 0x4d]);
    view.setUint32(2, out.length, true);
    view.setUint32(10, dataOffset, true);
    view.setUint32(14, infoSize, true);
    view.setInt32(18, image.width, true);
    view.setInt32(22, -image.height, true); // top-down rows
    view.setUint16(26, 1, true);
    view.setUint16(28, bits, true);
    view.setUint32(30, alpha ? BI_BITFIELDS : BI_RGB, true);
    view.setUint32(34, stride * image.height, true);
    view.setInt32(38, 2835, true); // 72 dpi
    view.setInt32(42, 2835, true);
    if (alpha) {
      const at = FILE_HEADER + INFO_HEADER;
      view.setUint32(at, BGRA.red, true);
      view.setUint32(at + 4, BGRA.green, true);
      view.setUint32(at + 8, BGRA.blue, true);
      view.setUint32(at + 12, BGRA.alpha, true);
      view.setUint32(at + 16, 0x73524742, true); // LCS_sRGB
    }
    const src = image.data;
    for (let row = 0; row < image.height; row++) {
      let s = row * image.width * 4;
      let d = dataOffset + row * stride;
      for (let x = 0; x < image.width; x++, s += 4) {
        out[d++] = src[s + 2];
        out[d++] = src[s + 1];
        out[d++] = src[s];
        if (alpha) out[d++] = src[s + 3];
      }
    }
    return out;
  },
};

/** How writeBmp stores an image: any bit depth, compression, row order and header this service reads. */
export interface BmpVariant {
  readonly bits: 1 | 4 | 8 | 16 | 24 | 32;
  readonly topDown?: boolean;
  /** 0 BI_RGB, 1 RLE8, 2 RLE4, 3 BI_BITFIELDS, 6 BI_ALPHABITFIELDS. */
  readonly compression?: 0 | 1 | 2 | 3 | 6;
  /** 12 (OS/2), 40, 56, 108 (V4) or 124 (V5). */
  readonly infoSize?: 12 | 40 | 56 | 108 | 124;
  /** Red, green, blue (and alpha) masks for 16- and 32-bit pixels. */
  readonly masks?: readonly number[];
}

/**
 * A BMP written by hand for the tests, as other tools write each variant. Palette variants take
 * the image's colours (at most 2^bits of them); 16-bit channels are scaled to their masks.
 */
export function writeBmp(image: Raster, variant: BmpVariant): Uint8Array {
  const { bits, topDown = false, compression = 0, infoSize = 40 } = variant;
  const { width, height, data } = image;
  const masks =
    variant.masks ?? (bits === 16 ? [0x7c00, 0x03e0, 0x001f, 0] : [0xff0000, 0xff00, 0xff, 0xff000000]);
  const colours: number[] = [];
  const indexOf = new Map<number, number>();
  if (bits <= 8) {
    for (let i = 0; i < data.length; i += 4) {
      const key = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
      if (!indexOf.has(key)) {
        indexOf.set(key, colours.length);
        colours.push(key);
      }
    }
    if (colours.length > 1 << bits) throw new Error(`${colours.length} colours do not fit ${bits} bits`);
  }
  const index = (x: number, y: number) => {
    const i = (y * width + x) * 4;
    return indexOf.get((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]) ?? 0;
  };
  const scaled = (value: number, mask: number) => {
    if (!mask) return 0;
    const shift = 31 - Math.clz32(mask & -mask);
    const max = mask >>> shift;
    return (Math.round((value * max) / 255) << shift) >>> 0;
  };
  // Stored rows, in file order (bottom row first unless top-down).
  const order = Array.from({ length: height }, (_, i) => (topDown ? i : height - 1 - i));
  const body: number[] = [];
  if (compression === 1 || compression === 2) {
    for (const y of order)
      body.push(
        ...rleRow(
          Array.from({ length: width }, (_, x) => index(x, y)),
          compression === 2,
        ),
      );
    body.push(0, 1);
  } else {
    const stride = Math.ceil((width * bits) / 32) * 4;
    for (const y of order) {
      const row = new Array(stride).fill(0);
      for (let x = 0; x < width; x++) {
        const i = (y * width + x) * 4;
        if (bits <= 8) {
          const perByte = 8 / bits;
          row[Math.floor(x / perByte)] |= index(x, y) << (8 - bits - (x % perByte) * bits);
        } else if (bits === 24) {
          row.splice(x * 3, 3, data[i + 2], data[i + 1], data[i]);
        } else {
          const pixel =
            (scaled(data[i], masks[0]) |
              scaled(data[i + 1], masks[1]) |
              scaled(data[i + 2], masks[2]) |
              scaled(data[i + 3], masks[3] ?? 0)) >>>
            0;
          for (let b = 0; b < bits / 8; b++) row[x * (bits / 8) + b] = (pixel >>> (8 * b)) & 255;
        }
      }
      body.push(...row);
    }
  }
  const entrySize = infoSize === 12 ? 3 : 4;
  const maskBytes =
    infoSize === 40 && (compression === 3 || compression === 6) ? (compression === 6 ? 16 : 12) : 0;
  const paletteBytes = colours.length > 0 ? (1 << bits) * entrySize : 0;
  const offset = 14 + infoSize + maskBytes + paletteBytes;
  const out = new Uint8Array(offset + body.length);
  const view = new DataView(out.buffer);
  out.set([0x42, 0x4d]);
  view.setUint32(2, out.length, true);
  view.setUint32(10, offset, true);
  view.setUint32(14, infoSize, true);
  if (infoSize === 12) {
    view.setUint16(18, width, true);
    view.setUint16(20, height, true);
    view.setUint16(22, 1, true);
    view.setUint16(24, bits, true);
  } else {
    view.setInt32(18, width, true);
    view.setInt32(22, topDown ? -height : height, true);
    view.setUint16(26, 1, true);
    view.setUint16(28, bits, true);
    view.setUint32(30, compression, true);
    view.setUint32(34, body.length, true);
    if (compression === 3 || compression === 6)
      masks.forEach((mask, i) => {
        view.setUint32(54 + 4 * i, mask >>> 0, true);
      });
  }
  colours.forEach((colour, i) => {
    const at = 14 + infoSize + maskBytes + i * entrySize;
    out.set([colour & 255, (colour >> 8) & 255, colour >> 16], at);
  });
  out.set(body, offset);
  return out;
}

/** One row run-length encoded: runs of equal indices, absolute runs for mixed stretches. */
function rleRow(indices: readonly number[], four: boolean): number[] {
  const out: number[] = [];
  let x = 0;
  while (x < indices.length) {
    let run = 1;
    while (x + run < indices.length && indices[x + run] === indices[x] && run < 255) run++;
    if (run >= 2) {
      out.push(run, four ? (indices[x] << 4) | indices[x] : indices[x]);
      x += run;
      continue;
    }
    let literal = 1;
    while (x + literal < indices.length && literal < 255 && indices[x + literal] !== indices[x + literal + 1])
      literal++;
    if (literal < 3) {
      out.push(1, four ? indices[x] << 4 : indices[x]);
      x += 1;
      continue;
    }
    const values = indices.slice(x, x + literal);
    const packed = four
      ? Array.from(
          { length: Math.ceil(literal / 2) },
          (_, i) => (values[2 * i] << 4) | (values[2 * i + 1] ?? 0),
        )
      : values;
    out.push(0, literal, ...packed);
    if (packed.length % 2) out.push(0);
    x += literal;
  }
  out.push(0, 0);
  return out;
}
