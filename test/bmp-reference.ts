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
