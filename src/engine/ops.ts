/**
 * The operations of an engine run (wasm/src/pipeline.h): a decoder, steps, a sink. The planner
 * builds them; the engine builds its chain from them. Every op carries the engine memory it holds
 * while the run lasts, so the plan adds them up before anything is read.
 */

/** Op codes: keep in step with wasm/src/pipeline.h. */
export const OP = {
  DECODE_JPEG: 1,
  DECODE_RASTER: 2,
  DECODE_PNG: 3,
  DECODE_WEBP: 4,
  DECODE_GIF: 5,
  DECODE_BMP: 6,
  DECODE_AVIF: 7,
  DECODE_HEIC: 8,
  DECODE_TIFF: 9,
  RESIZE: 20,
  CROP: 21,
  PLACE: 22,
  ORIENT: 23,
  ROTATE: 24,
  BLUR: 25,
  SHARPEN: 26,
  BRIGHT: 27,
  CONTRAST: 28,
  ROUNDED_CORNERS: 29,
  WATERMARK: 30,
  RESTRIP: 31,
  COLOR: 32,
  ENCODE_JPEG: 50,
  ENCODE_PNG: 51,
  ENCODE_WEBP: 52,
  ENCODE_GIF: 53,
  ENCODE_BMP: 54,
  ENCODE_AVIF: 55,
  CAPTURE: 60,
  MEAN: 61,
} as const;

export type OpCode = (typeof OP)[keyof typeof OP];

export interface Op {
  readonly code: OpCode;
  /** At most 15 numbers (sizes, parameters, pointers into engine memory). */
  readonly args: readonly number[];
  /** The Server-Timing entry its time goes to: `decode`, an action's name, `encode`. */
  readonly stage: string;
  /** Engine memory it holds while the run lasts, in bytes. */
  readonly bytes: number;
}

export const op = (code: OpCode, stage: string, bytes: number, ...args: number[]): Op => ({
  code,
  stage,
  bytes,
  args,
});

const WORDS_PER_OP = 16;

/** The ops as the engine reads them: 16 doubles each, the code first. */
export function encodeOps(ops: readonly Op[]): Float64Array {
  const words = new Float64Array(ops.length * WORDS_PER_OP);
  ops.forEach((each, i) => {
    if (each.args.length > WORDS_PER_OP - 1) throw new RangeError(`op ${each.code} has too many arguments`);
    words[i * WORDS_PER_OP] = each.code;
    words.set(each.args, i * WORDS_PER_OP + 1);
  });
  return words;
}

/** The engine memory a run of these ops holds at once: every stage lives for the whole run. */
export const opsBytes = (ops: readonly Op[]) => ops.reduce((sum, each) => sum + each.bytes, 0);

/** One RGBA row of `width` pixels. */
export const rowBytes = (width: number) => width * 4;
