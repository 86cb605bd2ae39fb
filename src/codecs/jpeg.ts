import { OP, type Op, op } from "../engine/ops";
import { colorOp, resampleOp } from "../engine/stages";
import type { ImageHeader } from "../image/header";
import type { Rect, Size } from "../image/raster";
import type { DecodeRequest, EngineDecoder, EngineEncoder } from "./types";

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

/** libjpeg's scaled size: jdiv_round_up(side, denominator). */
const scaled = (side: number, denominator: number) => Math.ceil(side / denominator);

/** The decoder's 64 KiB input buffer, its structures and Huffman tables. */
const DECODER_FIXED_BYTES = 160 * 1024;
/**
 * libjpeg's row buffers per column of scaled output: components x (2 x DCT rows of context) x
 * upsampling, plus the output colour conversion (measured: under 100 at 4:2:0).
 */
const DECODER_BYTES_PER_COLUMN = 128;
/** The strip of rows pushed at a time (wasm/src/codecs/jpeg.c STRIP_ROWS), RGBA. */
const STRIP_BYTES_PER_COLUMN = 16 * 4;
/** A multi-scan JPEG's coefficients: 64 16-bit values per block, all held until the last scan. */
const COEFFICIENT_BYTES_PER_BLOCK = 128;

/** The decoder alone: what libjpeg holds to push the rows of `columns` scaled columns. */
export function jpegDecoderBytes(header: ImageHeader, columns: number): number {
  const coefficients = header.jpegMultiScan ? (header.jpegBlocks ?? 0) * COEFFICIENT_BYTES_PER_BLOCK : 0;
  return DECODER_FIXED_BYTES + coefficients + (DECODER_BYTES_PER_COLUMN + STRIP_BYTES_PER_COLUMN) * columns;
}

/**
 * The DC-scan decoder (wasm/src/codecs/jpeg_dc.c): one 16-bit coefficient per block, stored in
 * whole MCUs (at most a block row and column more per component than the image's), its input
 * buffer, tables and one output row.
 */
function dcDecoderBytes(header: ImageHeader, columns: number): number {
  const blocks = header.jpegBlocks ?? 0;
  const padding = 3 * (Math.ceil(header.width / 8) + Math.ceil(header.height / 8) + 4) * 4;
  return 96 * 1024 + 2 * (blocks + padding) + 4 * columns;
}

/**
 * The codec engine's JPEG decoder: only the rows and iMCU columns of the region, DCT-scaled by up
 * to 1/8 when the size asks for less, then resampled to the size as rows stream out. Single-scan
 * JPEGs need memory for a few rows whatever their size; progressive and other multi-scan ones hold
 * every coefficient (their thumbnails only the DC scans). Colours are converted to sRGB by the
 * embedded profile after the resampling; CMYK/YCCK inks before it, by theirs or the default CMYK
 * profile (wasm/profiles/).
 */
export const jpegDecoder: EngineDecoder = {
  inEngine: true,
  ops(header, { region, size }: DecodeRequest, source) {
    const denominator = dctDenominator(region, size);
    // CMYK inks are converted by colour management before any resampling (inks are not light).
    const cmyk = header.jpegComponents === 4;
    const fullWidth = scaled(header.width, denominator);
    const fullHeight = scaled(header.height, denominator);
    // The scaled pixels that cover the region, and where the region lies among them.
    const x0 = Math.floor(region.x / denominator);
    const y0 = Math.floor(region.y / denominator);
    const x1 = Math.min(fullWidth, Math.ceil((region.x + region.width) / denominator));
    const y1 = Math.min(fullHeight, Math.ceil((region.y + region.height) / denominator));
    const pushed = { width: x1 - x0, height: y1 - y0 };
    // At 1/8 a progressive JPEG's DC scans are all the thumbnail needs: the AC scans are skipped.
    const dcOnly = denominator === 8 && header.jpegDcScalable === true;
    const decode = op(
      OP.DECODE_JPEG,
      "decode",
      dcOnly ? dcDecoderBytes(header, pushed.width) : jpegDecoderBytes(header, pushed.width),
      source,
      denominator,
      x0,
      y0,
      pushed.width,
      pushed.height,
      dcOnly ? 1 : 0,
      cmyk ? 1 : 0,
      0,
    );
    const window = {
      x: region.x / denominator - x0,
      y: region.y / denominator - y0,
      width: region.width / denominator,
      height: region.height / denominator,
    };
    const exact =
      window.x === 0 &&
      window.y === 0 &&
      pushed.width === size.width &&
      pushed.height === size.height &&
      window.width === size.width &&
      window.height === size.height;
    // Without a profile (and not CMYK) the pixels are taken as sRGB: no colour step at all.
    const convert =
      cmyk || (header.iccBytes ?? 0) > 0 ? [colorOp(cmyk ? pushed : size, cmyk, header.iccBytes)] : [];
    const resample = exact ? [] : [resampleOp(pushed, size, false, "decode", window)];
    return cmyk ? [decode, ...convert, ...resample] : [decode, ...resample, ...convert];
  },
};

/**
 * A whole 4:2:0 JPEG written again as JPEG with nothing changed but its quality or scans: the
 * decoder reads its DCT coefficients (all of them, as for a progressive file), requantises them to
 * the encoder's tables and hands them to the encoder, which entropy-codes them again
 * (wasm/src/codecs/jpeg.c). A pixel round trip would add an inverse and forward DCT, chroma
 * upsampling and downsampling and two colour conversions, each rounding, for the same result.
 */
export function jpegRequantizeOp(header: ImageHeader, source: number) {
  const coefficients = (header.jpegBlocks ?? 0) * COEFFICIENT_BYTES_PER_BLOCK;
  return op(
    OP.DECODE_JPEG,
    "decode",
    DECODER_FIXED_BYTES + coefficients,
    source,
    1,
    0,
    0,
    header.width,
    header.height,
    0,
    0,
    1,
  );
}

const isRequantizing = (upstream: readonly Op[] | undefined) =>
  upstream?.length === 1 && upstream[0].code === OP.DECODE_JPEG && upstream[0].args[8] === 1;

const DEFAULT_QUALITY = 85;
/** The encoder's 64 KiB output buffer, structures and tables. */
const ENCODER_FIXED_BYTES = 160 * 1024;
/** Row buffers per column: 3 components x 16 rows of context (4:2:0), downsampled copies. */
const ENCODER_BYTES_PER_COLUMN = 112;

/** 8x8 blocks of a w x h image at 4:2:0: per 16x16 MCU four luma and two chroma blocks. */
const blocks420 = ({ width, height }: Size) => Math.ceil(width / 16) * Math.ceil(height / 16) * 6;

/** libjpeg's whole-image coefficients, which optimised Huffman tables and progressive output need. */
export const jpegCoefficientBytes = (size: Size) => blocks420(size) * COEFFICIENT_BYTES_PER_BLOCK;

/**
 * Baseline or progressive JPEG: Annex K tables at the quality, 4:2:0, no JFIF segment. Huffman
 * tables are optimised (files ~5-10% smaller) when the whole image's coefficients fit the budget;
 * progressive output always needs them. Transparent pixels are composited on white.
 */
export const jpegEncoder: EngineEncoder = {
  hasAlpha: false,
  maxSide: 65535,
  op(size, { quality, progressive, upstream }, hasAlpha, _source, budgetBytes) {
    const level = typeof quality === "number" ? quality : quality === "lossless" ? 100 : DEFAULT_QUALITY;
    // Requantised coefficients are coded from the decoder's arrays, always with optimised tables.
    if (isRequantizing(upstream)) {
      return op(
        OP.ENCODE_JPEG,
        "encode",
        ENCODER_FIXED_BYTES,
        size.width,
        size.height,
        level,
        progressive ? 1 : 0,
        1,
        0,
      );
    }
    const streaming = ENCODER_FIXED_BYTES + (ENCODER_BYTES_PER_COLUMN + (hasAlpha ? 3 : 0)) * size.width;
    const coefficients = jpegCoefficientBytes(size);
    // Optimised tables only when the coefficients leave room: a quarter of the budget at most.
    const optimise = progressive || coefficients <= budgetBytes / 4;
    return op(
      OP.ENCODE_JPEG,
      "encode",
      streaming + (optimise ? coefficients : 0),
      size.width,
      size.height,
      level,
      progressive ? 1 : 0,
      optimise ? 1 : 0,
      hasAlpha ? 1 : 0,
    );
  },
};
