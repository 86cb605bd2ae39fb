import type { Rect, Rgba, Size } from "../image/raster";
import { OP, type Op, op } from "./ops";

/**
 * Builders for the engine stages several modules share (resampling, crops, orientation, the
 * sinks that keep pixels), each with the memory its C code allocates: wasm/src/steps/*.c and
 * wasm/src/codecs/raster.c. Tests hold these figures against the engine's own high-water mark.
 */

/** What dlmalloc adds to every block, and a sink's own struct: small, but counted. */
const BLOCK_OVERHEAD = 16;
const SINK_BYTES = 256;

/** The resampler's taps along one axis, as wasm/src/steps/resize.c's axis_init computes them. */
function axis(inLength: number, window: number, outLength: number) {
  const ratio = window / outLength;
  const box = ratio >= 3 ? Math.floor(ratio / 2) : 1;
  const boxLength = Math.ceil(inLength / box);
  const scale = window / box / outLength;
  const taps = Math.ceil(2 * 3 * Math.max(1, scale)) + 1;
  const maxTaps = taps + (taps & 1);
  return { box, boxLength, maxTaps, bytes: outLength * (8 + 2 * maxTaps) + 3 * BLOCK_OVERHEAD };
}

/** The window of the input that becomes the output: all of it unless a crop was absorbed. */
export interface ResampleWindow {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/**
 * Lanczos3 resampling of `input` (the `window` part of it, fractions allowed) to `output`.
 * `premultiply` when the image may have transparency.
 */
export function resampleOp(
  input: Size,
  output: Size,
  premultiply: boolean,
  stage = "resize",
  window: ResampleWindow = { x: 0, y: 0, ...input },
): Op {
  const h = axis(input.width, window.width, output.width);
  const v = axis(input.height, window.height, output.height);
  const bytes =
    SINK_BYTES +
    h.bytes +
    v.bytes +
    (premultiply ? 4 * input.width : 0) +
    (h.box > 1 || v.box > 1 ? 20 * h.boxLength : 0) +
    8 * v.maxTaps * output.width +
    20 * output.width +
    6 * BLOCK_OVERHEAD;
  return op(
    OP.RESIZE,
    stage,
    bytes,
    input.width,
    input.height,
    window.x,
    window.y,
    window.width,
    window.height,
    output.width,
    output.height,
    premultiply ? 1 : 0,
  );
}

export const cropOp = (input: Size, rect: Rect, stage = "crop"): Op =>
  op(OP.CROP, stage, SINK_BYTES, input.width, input.height, rect.x, rect.y, rect.width, rect.height);

export const placeOp = (input: Size, canvas: Size, x: number, y: number, colour: Rgba, stage: string): Op =>
  op(
    OP.PLACE,
    stage,
    SINK_BYTES + 4 * canvas.width,
    input.width,
    input.height,
    canvas.width,
    canvas.height,
    x,
    y,
    ...colour,
  );

/** Orientations 5-8 swap width and height. */
export const orientedSize = (size: Size, orientation: number): Size =>
  orientation >= 5 ? { width: size.height, height: size.width } : size;

/** The frame an orientation holds (none for 2, a mirror row by row), at 3 or 4 bytes a pixel. */
export function orientFrameBytes(input: Size, orientation: number, hasAlpha: boolean, passes = 1): number {
  if (orientation === 2) return 0;
  const out = orientedSize(input, orientation);
  return Math.ceil(out.height / passes) * out.width * (hasAlpha ? 4 : 3);
}

/** EXIF orientation 2..8 applied to `input`, its frame in `passes` bands (see wasm/src/steps/orient.c). */
export function orientOp(input: Size, orientation: number, hasAlpha: boolean, stage: string, passes = 1): Op {
  const out = orientedSize(input, orientation);
  const bytes =
    SINK_BYTES +
    orientFrameBytes(input, orientation, hasAlpha, passes) +
    (orientation === 2 ? 0 : 4 * out.width);
  return op(OP.ORIENT, stage, bytes, input.width, input.height, orientation, hasAlpha ? 4 : 3, passes);
}

/** The same orientation op, its frame held in `passes` bands. */
export function withPasses(orient: Op, passes: number): Op {
  const [width, height, orientation, bytesPerPixel] = orient.args;
  return orientOp({ width, height }, orientation, bytesPerPixel === 4, orient.stage, passes);
}

/** Keeps the run's pixels in engine memory: a mark, a frame for a codec outside the engine. */
export const captureOp = (size: Size, stage = "encode"): Op =>
  op(OP.CAPTURE, stage, SINK_BYTES + 4 * size.width * size.height + BLOCK_OVERHEAD, size.width, size.height);

/**
 * Pushes pixels already in engine memory: one frame, or `animation.frames` of them one after
 * another, each with its duration (an int32 array at `animation.delays`).
 */
export const rasterOp = (
  pointer: number,
  size: Size,
  stage = "decode",
  animation?: { frames: number; delays: number; loopCount: number },
): Op =>
  op(
    OP.DECODE_RASTER,
    stage,
    4 * size.width + BLOCK_OVERHEAD,
    pointer,
    size.width,
    size.height,
    ...(animation ? [animation.frames, animation.delays, animation.loopCount] : []),
  );

/** The mean colour (average-hue). */
export const meanOp = (size: Size): Op => op(OP.MEAN, "average-hue", SINK_BYTES, size.width, size.height);

/**
 * Colour management (wasm/src/steps/color.c): the source's ICC profile (or CMYK inks) to sRGB,
 * nothing to do without a profile. Little CMS's transform: a few hundred KB for RGB and grey
 * profiles, a 4-D table of about 1.5 MB for CMYK ones; the profile's bytes, twice (the decoder's
 * copy and the one Little CMS parses).
 */
export const colorOp = (size: Size, cmyk: boolean, iccBytes = 0): Op =>
  op(
    OP.COLOR,
    "colour",
    SINK_BYTES + (cmyk ? 2 * 1024 * 1024 : 640 * 1024) + 2 * iccBytes,
    size.width,
    size.height,
  );

/** Re-cuts rows into strips of exactly `rows` (tests of strip boundaries). */
export const restripOp = (size: Size, rows: number): Op =>
  op(OP.RESTRIP, "restrip", SINK_BYTES + 4 * size.width * rows, size.width, size.height, rows);
