import { OP, type Op, op } from "../engine/ops";
import { colorOp, cropOp, resampleOp } from "../engine/stages";
import type { ImageHeader } from "../image/header";
import { tiffColours } from "../image/tiff";
import type { DecodeRequest, EngineDecoder, EngineEncoder } from "./types";

/** dlmalloc's overhead per block, and the sinks' own structs. */
const BLOCK_OVERHEAD = 16;

/**
 * The decoder's fixed part (wasm/src/codecs/png.c): its 64 KiB input chunk, libpng's read and
 * info structs, zlib's inflate state and 32 KiB window.
 */
const DECODER_FIXED_BYTES = 128 * 1024;
/**
 * Per column: libpng's current and previous row at the widest pixel its transforms make (16-bit
 * RGBA: 8 bytes) and the 16-row RGBA strip pushed at a time.
 */
const DECODER_BYTES_PER_COLUMN = 2 * 8 + 16 * 4;

/** The most libpng may allocate for one chunk: the largest before the image data, or the profile's bound. */
const chunkLimit = (header: ImageHeader) =>
  Math.max(header.iccBytes ?? 0, (header.png?.largestChunk ?? 0) + 1024);

/** The decoder alone: an Adam7 image's frame, libpng's rows, the largest chunk held twice (read and saved). */
export function pngDecoderBytes(header: ImageHeader): number {
  const frame = header.png?.interlaced ? 4 * header.width * header.height + BLOCK_OVERHEAD : 0;
  return (
    DECODER_FIXED_BYTES +
    DECODER_BYTES_PER_COLUMN * header.width +
    2 * (header.png?.largestChunk ?? 0) +
    frame
  );
}

/**
 * The codec engine's PNG decoder: rows as they inflate, every layout as 8-bit RGBA, then the
 * region and size the plan asks for (the resampler's box pre-shrink makes thumbnails cheap), then
 * the iCCP profile's colours to sRGB.
 */
export const pngDecoder: EngineDecoder = {
  inEngine: true,
  ops(header, { region, size }: DecodeRequest, source) {
    const whole = { width: header.width, height: header.height };
    const ops: Op[] = [
      op(
        OP.DECODE_PNG,
        "decode",
        pngDecoderBytes(header),
        source,
        header.width,
        header.height,
        chunkLimit(header),
      ),
    ];
    const cropped =
      region.x !== 0 || region.y !== 0 || region.width !== whole.width || region.height !== whole.height;
    if (size.width !== region.width || size.height !== region.height) {
      ops.push(resampleOp(whole, size, header.hasAlpha, "decode", region));
    } else if (cropped) {
      ops.push(cropOp(whole, region, "decode"));
    }
    ops.push(colorOp(size, false, header.iccBytes));
    return ops;
  },
};

/** PNG colour types. */
export const PNG_COLOUR = { GREY: 0, RGB: 2, PALETTE: 3, GREY_ALPHA: 4, RGBA: 6 } as const;

/** Stages that move or drop pixels but make no new colour: a palette survives them. */
const PALETTE_KEEPING: ReadonlySet<number> = new Set([
  OP.DECODE_PNG,
  OP.CROP,
  OP.ORIENT,
  OP.RESTRIP,
  OP.COLOR,
]);
/** Stages that treat R, G and B alike: grey in, grey out. */
const GREY_KEEPING: ReadonlySet<number> = new Set([
  OP.DECODE_PNG,
  OP.DECODE_JPEG,
  OP.DECODE_TIFF,
  OP.CROP,
  OP.ORIENT,
  OP.RESTRIP,
  OP.COLOR,
  OP.RESIZE,
  OP.BLUR,
  OP.SHARPEN,
  OP.BRIGHT,
  OP.CONTRAST,
]);
/** Stages that fill with a colour, given as their last four arguments: grey when that colour is. */
const FILLING: ReadonlySet<number> = new Set([OP.PLACE, OP.ROTATE, OP.ROUNDED_CORNERS]);

const greyFill = (each: Op) => {
  const [r, g, b] = each.args.slice(-4);
  return r === g && g === b;
};

const isGreySource = (source: ImageHeader) => {
  if (source.png) return source.png.colourType === 0 || source.png.colourType === 4;
  if (source.tiff) return tiffColours(source.tiff) === 1 && source.tiff.photometric !== 3;
  return source.jpegComponents === 1;
};

/**
 * The colour type to write, decided before the first row from the source's header and the ops
 * before the encoder (the pixels are not seen in advance):
 * - the source's palette when the source is a palette PNG and every stage only moves pixels (crop,
 *   orientation, quarter turns) with no colour profile to convert — a re-encode at full size;
 * - grey (with alpha when the plan may have transparency) when the source is grey (a grey or
 *   grey+alpha PNG, a grey TIFF, a one-component JPEG), it has no colour profile and every stage treats R, G
 *   and B alike (resize, blur, sharpen, bright, contrast, crops, turns; fills only in grey; no
 *   watermark);
 * - otherwise RGB when the plan has no transparency (the source has none and no step adds any),
 *   RGBA when it may.
 */
export function pngColourType(source: ImageHeader, upstream: readonly Op[], hasAlpha: boolean): number {
  const profile = (source.iccBytes ?? 0) > 0;
  if (
    source.png?.colourType === PNG_COLOUR.PALETTE &&
    !profile &&
    upstream.every((each) => PALETTE_KEEPING.has(each.code))
  ) {
    return PNG_COLOUR.PALETTE;
  }
  const grey =
    isGreySource(source) &&
    !profile &&
    upstream.every((each) => GREY_KEEPING.has(each.code) || (FILLING.has(each.code) && greyFill(each)));
  if (grey) return hasAlpha ? PNG_COLOUR.GREY_ALPHA : PNG_COLOUR.GREY;
  return hasAlpha ? PNG_COLOUR.RGBA : PNG_COLOUR.RGB;
}

/**
 * zlib level 2, the Paeth filter on every row, zlib's filtered strategy. Measured with the engine
 * under Node (min of 3 runs on a loaded 2-core machine; a raster pushed into the encoder):
 *
 * | level, filter     | 12 MP photo (RGB)   | 3840x2160 screenshot (RGBA) |
 * |-------------------|---------------------|-----------------------------|
 * | 1, Sub            | 8.47 MB, 460 ms     | 449 KB, 106 ms              |
 * | 2, Sub            | 8.38 MB, 640 ms     | 400 KB, 106 ms              |
 * | 2, Paeth (chosen) | 8.53 MB, 660 ms     | 217 KB, 170 ms              |
 * | 3, Paeth          | 8.28 MB, 1055 ms    | 213 KB, 190 ms              |
 * | 6, Paeth          | 8.14 MB, 5480 ms    | 84 KB, 300 ms               |
 * | 6, all (libpng's) | 7.99 MB, 5380 ms    | 70 KB, 720 ms               |
 *
 * Level 3 and up spend far more time on photos for a few per cent; Sub is as fast but nearly
 * doubles screenshots, PNG's most common content; adaptive filtering costs 2-4x for little.
 * (sharp's default, level 6 unfiltered: 15.6 MB and 275 KB.)
 */
export const PNG_ZLIB_LEVEL = 2;
export const PNG_FILTERS = 0x80; // PNG_FILTER_PAETH
export const PNG_STRATEGY = 1; // Z_FILTERED

/** Bytes per pixel of each colour type's rows. */
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/**
 * The encoder: its sink (64 KiB output buffer, palette table), libpng's write struct and zlib's
 * deflate state (window, hash chains and pending buffer at the default memLevel: about 260 KiB),
 * and per column the row in the output layout, libpng's row and previous row and a filtered row.
 */
const ENCODER_FIXED_BYTES = 400 * 1024;

export function pngEncoderBytes(width: number, colourType: number): number {
  return ENCODER_FIXED_BYTES + (4 + 3 * (CHANNELS[colourType] ?? 4)) * width + 4 * BLOCK_OVERHEAD;
}

/** PNG written by rows in the engine, in the colour type pngColourType decides. */
export const pngEncoder: EngineEncoder = {
  hasAlpha: true,
  maxSide: 2 ** 31 - 1,
  op(size, { upstream = [] }, hasAlpha, source) {
    const colour = pngColourType(source, upstream, hasAlpha);
    return op(
      OP.ENCODE_PNG,
      "encode",
      pngEncoderBytes(size.width, colour),
      size.width,
      size.height,
      colour,
      PNG_ZLIB_LEVEL,
      PNG_FILTERS,
      PNG_STRATEGY,
    );
  },
};
