import type { ImageHeader } from "../image/header";
import type { Rect, Size } from "../image/raster";
import { decodeJpegRegion, encodeJpeg } from "./engine";
import type { Decoder, Encoder } from "./types";

/** libjpeg's DCT scalings, smallest first: 1/8, 1/4, 1/2 (then 1/1). */
const DCT_DENOMINATORS = [8, 4, 2];

/**
 * The largest DCT reduction that still leaves the region at least as large as the size wanted,
 * so the resampler only ever reduces (as sharp's shrink-on-load does).
 */
export function dctDenominator(region: Rect, size: Size): number {
  return (
    DCT_DENOMINATORS.find(
      (denominator) => region.width / denominator >= size.width && region.height / denominator >= size.height,
    ) ?? 1
  );
}

/** The engine's stack, its two 64 KiB I/O buffers and libjpeg's tables. */
const ENGINE_FIXED_BYTES = 1024 * 1024;
/** libjpeg's row buffers per pixel of scaled width (components x DCT rows x upsampling). */
const DECODER_BYTES_PER_COLUMN = 128;
/** The resampler's reduced rows per output column (up to 16 taps of 4 x 16-bit values). */
const RESAMPLER_BYTES_PER_COLUMN = 128;
/** A multi-scan JPEG's coefficients: 64 16-bit values per block, all held until the last scan. */
const COEFFICIENT_BYTES_PER_BLOCK = 128;

/**
 * The codec engine's JPEG decoder: only the rows and iMCU columns of the region, DCT-scaled,
 * resampled while streaming; the source stays in JS and is read in 64 KiB chunks. Single-scan
 * JPEGs need memory for the output alone, whatever their size; progressive and other multi-scan
 * ones hold every coefficient. CMYK/YCCK are converted to RGB (Adobe's inverted inks) inside the engine.
 */
export const jpegDecoder: Decoder = {
  decodesRegions: true,
  memoryBytes(header, { region, size }) {
    const scaledWidth = Math.ceil(header.width / dctDenominator(region, size));
    const coefficients = header.jpegMultiScan ? (header.jpegBlocks ?? 0) * COEFFICIENT_BYTES_PER_BLOCK : 0;
    return (
      ENGINE_FIXED_BYTES +
      coefficients +
      DECODER_BYTES_PER_COLUMN * scaledWidth +
      RESAMPLER_BYTES_PER_COLUMN * size.width +
      // the result in the engine's heap, then its copy in JS
      8 * size.width * size.height
    );
  },
  async decode(bytes, _header: ImageHeader, { region, size }) {
    return decodeJpegRegion(bytes, dctDenominator(region, size), region, size);
  },
};

const DEFAULT_QUALITY = 85;

export const jpegEncoder: Encoder = {
  hasAlpha: false,
  maxSide: 65535,
  // The RGBA copy in the engine's heap (4), a progressive encoder's coefficients (3 at 4:2:0),
  // and the row and output buffers.
  bytesPerPixel: 8,
  async encode(image, { quality, progressive }) {
    const level = typeof quality === "number" ? quality : quality === "lossless" ? 100 : DEFAULT_QUALITY;
    return encodeJpeg(image, level, progressive);
  },
};
