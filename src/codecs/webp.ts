import { OP, op } from "../engine/ops";
import { colorOp, resampleOp } from "../engine/stages";
import type { ImageHeader } from "../image/header";
import type { Rect, Size } from "../image/raster";
import type { DecodeRequest, EngineDecoder, EngineEncoder } from "./types";

/**
 * WebP in the codec engine (wasm/src/codecs/webp.c, libwebp). The byte counts below are what the
 * C code and libwebp allocate, measured against the engine's high-water mark (test/formats-webp).
 */

/** What dlmalloc adds per block, a sink's struct, small structures: counted generously. */
const FIXED_BYTES = 96 * 1024;
/** Rows of the strip the decoder pushes from (wasm/src/codecs/webp.c STRIP_ROWS), RGBA. */
const STRIP_ROWS = 32;
/**
 * The lossy decoder's per-column state: a macroblock row of coefficients and its caches, intra
 * modes, filter info, top samples (libwebp's frame_dec.c AllocateMemory: about 1.5 KB per
 * macroblock column), and the fancy upsampler's or rescaler's rows.
 */
const LOSSY_BYTES_PER_COLUMN = 110;
/** The rescaler's work rows per output column (4 channels of 32-bit sums, twice, and a row). */
const RESCALER_BYTES_PER_COLUMN = 40;
/**
 * The lossless decoder: the whole ARGB picture (backward references reach anywhere above), its
 * 16-row cache and transforms' rows; its Huffman tables grow with the file (counted in its bytes).
 */
const LOSSLESS_BYTES_PER_PIXEL = 4;
const LOSSLESS_BYTES_PER_COLUMN = 4 * 16 * 2 + 64;
/** An animation: WebPAnimDecoder's two canvases, and a frame's decoding (at most the canvas). */
const ANIMATION_BYTES_PER_PIXEL = 8 + 4;

const area = ({ width, height }: Size) => width * height;
const MiB = 1024 * 1024;

/** What the decoder holds: the file, its bitstream decoder's state, the strip. */
export function webpDecoderBytes(header: ImageHeader, pushed: Size, scaled: boolean): number {
  const file = header.fileBytes ?? 0;
  const strip = STRIP_ROWS * 4 * pushed.width;
  const rescaler = scaled ? RESCALER_BYTES_PER_COLUMN * pushed.width : 0;
  const stored = { width: header.width, height: header.height };
  switch (header.webpKind) {
    case "animated":
      return FIXED_BYTES + file + ANIMATION_BYTES_PER_PIXEL * area(stored) + strip;
    case "lossless":
      // Its Huffman tables, one set per meta-code, grow with what the file codes: about 1 MiB.
      return (
        FIXED_BYTES +
        file +
        MiB +
        LOSSLESS_BYTES_PER_PIXEL * area(stored) +
        LOSSLESS_BYTES_PER_COLUMN * header.width +
        strip +
        rescaler
      );
    default: {
      // The alpha plane is decoded whole (alpha_dec.c), and a losslessly coded one twice.
      const alpha = header.webpAlpha ? 2 * area(stored) : 0;
      return FIXED_BYTES + file + LOSSY_BYTES_PER_COLUMN * header.width + alpha + strip + rescaler;
    }
  }
}

/**
 * The crop a decode starts from: libwebp snaps a lossy crop's corner to the chroma grid, so the
 * corner is taken down to even coordinates and the resampler's window skips what lies before
 * (lossless crops are exact).
 */
function cropFor(region: Rect, header: ImageHeader): Rect {
  const snap = header.webpKind === "lossy" ? ~1 : ~0;
  const x = Math.floor(region.x) & snap;
  const y = Math.floor(region.y) & snap;
  const right = Math.min(header.width, Math.ceil(region.x + region.width));
  const bottom = Math.min(header.height, Math.ceil(region.y + region.height));
  return { x, y, width: right - x, height: bottom - y };
}

/**
 * The codec engine's WebP decoder: still images stream rows out of libwebp, cropped, and scaled
 * by libwebp's rescaler by the largest whole factor that leaves at least the size wanted (the
 * Lanczos resampler does the rest, as sharp's shrink-on-load does). A lossy image with an alpha
 * channel is not rescaled by libwebp (it would average the colours of transparent pixels in): the
 * resampler, which weighs colours by alpha, does it all. Animations push their composited canvas
 * frame after frame (or the first only), resampled after. An ICCP profile goes to colour
 * management after the resampling.
 */
export const webpDecoder: EngineDecoder = {
  inEngine: true,
  ops(header, { region, size, frames = 1 }: DecodeRequest, source) {
    const animated = header.webpKind === "animated";
    const crop = animated
      ? {
          x: Math.floor(region.x),
          y: Math.floor(region.y),
          width: Math.ceil(region.x + region.width) - Math.floor(region.x),
          height: Math.ceil(region.y + region.height) - Math.floor(region.y),
        }
      : cropFor(region, header);
    const factor = Math.floor(Math.min(crop.width / size.width, crop.height / size.height));
    const scalable = !animated && factor >= 2 && !(header.webpKind === "lossy" && header.webpAlpha);
    const pushed = scalable
      ? { width: Math.ceil(crop.width / factor), height: Math.ceil(crop.height / factor) }
      : { width: crop.width, height: crop.height };
    const decode = op(
      OP.DECODE_WEBP,
      "decode",
      webpDecoderBytes(header, pushed, scalable),
      source,
      animated ? 1 : 0,
      crop.x,
      crop.y,
      crop.width,
      crop.height,
      scalable ? pushed.width : 0,
      scalable ? pushed.height : 0,
      animated ? frames : 1,
    );
    const sx = pushed.width / crop.width;
    const sy = pushed.height / crop.height;
    const window = {
      x: (region.x - crop.x) * sx,
      y: (region.y - crop.y) * sy,
      width: region.width * sx,
      height: region.height * sy,
    };
    const exact =
      window.x === 0 &&
      window.y === 0 &&
      window.width === size.width &&
      window.height === size.height &&
      pushed.width === size.width &&
      pushed.height === size.height;
    const resample = exact ? [] : [resampleOp(pushed, size, header.hasAlpha, "decode", window)];
    return [decode, ...resample, colorOp(size, false, header.iccBytes)];
  },
};

const DEFAULT_QUALITY = 85;
/**
 * libwebp's effort, one below its default (sharp's and cwebp's 4). The engine encodes with
 * `low_memory` (wasm/src/codecs/webp.c), under which method 4 spends a whole extra pass gathering
 * statistics, where method 3 samples them: on the bench's 12 MP photo at q85, method 3 is 2.3 s
 * against 2.8-3.9 s, for 0.4% fewer bytes and 0.02 dB less PSNR (sharp at effort 4: 1.5-1.8 s).
 */
const METHOD = 3;
/** Lossless effort (libwebp's WebPConfigLosslessPreset level 2). */
const LOSSLESS_EFFORT = { method: 2, quality: 25 };
/** The encoder's state besides the picture: its structures, tables, a macroblock row's analysis. */
const ENCODER_FIXED_BYTES = 512 * 1024;
/**
 * Lossy: the picture as YUV 4:2:0 (1.5 bytes a pixel); libwebp's per-macroblock info and the
 * partitions (the coded image, held until it is written: more at high qualities) on top. Alpha is
 * coded losslessly: a copy of the plane, its ARGB picture and the lossless encoder's state.
 */
const LOSSY_BYTES_PER_PIXEL = 1.5 + 0.25;
const codedBytesPerPixel = (quality: number) => (quality >= 95 ? 1.25 : quality >= 85 ? 0.5 : 0.25);
// At method 3 (METHOD), measured on the tests' 640x480 photo with a soft alpha edge: 17.8 bytes a
// pixel; a flat alpha plane needs far less.
const ALPHA_BYTES_PER_PIXEL = 20;
/**
 * Lossless: the ARGB picture, the encoder's transformed copy and hash chain (4 bytes a pixel each)
 * and its three sets of backward references (8 bytes per pixel each for photographs).
 */
const LOSSLESS_ENCODER_BYTES_PER_PIXEL = 40;
/**
 * An animation: the ARGB frame, WebPAnimEncoder's canvases (previous, current, disposed) and the
 * candidate sub-frames it encodes, each like a still picture; the coded frames until assembled.
 */
const ANIMATED_BYTES_PER_PIXEL = 4 + 12 + 8;

/** The engine memory of encoding a `size` picture. */
export function webpEncoderBytes(
  size: Size,
  quality: number,
  lossless: boolean,
  hasAlpha: boolean,
  frames: number,
): number {
  const pixels = area(size);
  const lossy = LOSSY_BYTES_PER_PIXEL + codedBytesPerPixel(quality) + (hasAlpha ? ALPHA_BYTES_PER_PIXEL : 0);
  if (frames > 1) {
    const frame = lossless ? LOSSLESS_ENCODER_BYTES_PER_PIXEL : lossy;
    return ENCODER_FIXED_BYTES + (ANIMATED_BYTES_PER_PIXEL + frame) * pixels + frames * pixels * 0.5;
  }
  if (lossless) return ENCODER_FIXED_BYTES + LOSSLESS_ENCODER_BYTES_PER_PIXEL * pixels;
  const pending = 16 * 4 * size.width * 2;
  return ENCODER_FIXED_BYTES + pending + lossy * pixels;
}

/**
 * WebP output from the engine: lossy at the quality (default 85), or lossless (`quality,lossless`),
 * with alpha when the pixels may be transparent, animated when the run pushes frames.
 */
export const webpEncoder: EngineEncoder = {
  hasAlpha: true,
  maxSide: 16383,
  op(size, { quality, frames = 1 }, hasAlpha) {
    const lossless = quality === "lossless";
    const level = lossless
      ? LOSSLESS_EFFORT.quality
      : typeof quality === "number"
        ? quality
        : DEFAULT_QUALITY;
    return op(
      OP.ENCODE_WEBP,
      "encode",
      webpEncoderBytes(size, level, lossless, hasAlpha, frames),
      size.width,
      size.height,
      level,
      lossless ? 1 : 0,
      hasAlpha ? 1 : 0,
      frames > 1 ? 1 : 0,
      lossless ? LOSSLESS_EFFORT.method : METHOD,
    );
  },
};
