import { OP, type Op, op } from "../engine/ops";
import { orientOp } from "../engine/stages";
import { type Rgba, type Size, TRANSPARENT, WHITE } from "../image/raster";
import { integer, readBare } from "../process/params";
import type { StepModule } from "../process/types";

/** EXIF orientations that perform the exact quarter turns. */
const QUARTER_TURNS: Record<number, number> = { 90: 6, 180: 3, 270: 8 };

export function rotatedSize(degrees: number, input: Size): Size {
  const angle = degrees % 360;
  if (angle === 0 || angle === 180) return input;
  if (angle === 90 || angle === 270) return { width: input.height, height: input.width };
  const radians = (angle * Math.PI) / 180;
  const cos = Math.abs(Math.cos(radians));
  const sin = Math.abs(Math.sin(radians));
  return {
    width: Math.round(input.width * cos + input.height * sin),
    height: Math.round(input.width * sin + input.height * cos),
  };
}

/**
 * The input rows a free rotation holds (wasm/src/steps/rotate.c rotate_ring_rows): the widest band
 * an output row crosses, or the whole frame once the image turns past a quarter either way.
 */
function ringRows(input: Size, output: Size, degrees: number): number {
  const radians = (degrees * Math.PI) / 180;
  if (Math.cos(radians) < 0) return input.height;
  return Math.min(input.height, Math.ceil((output.width - 1) * Math.abs(Math.sin(radians))) + 3);
}

/**
 * Clockwise rotation by any whole angle onto the bounding canvas (Decision 15): exact quarter turns
 * (as EXIF orientations), bilinear sampling in premultiplied alpha otherwise, exposed corners
 * transparent when the output keeps alpha, white otherwise.
 */
export function rotateOps(degrees: number, input: Size, hasAlpha: boolean, fill: Rgba, stage: string): Op[] {
  const angle = degrees % 360;
  if (angle === 0) return [];
  const quarter = QUARTER_TURNS[angle];
  if (quarter) return [orientOp(input, quarter, hasAlpha, stage)];
  const output = rotatedSize(angle, input);
  const bytes = 256 + ringRows(input, output, angle) * input.width * 4 + output.width * 4;
  return [
    op(OP.ROTATE, stage, bytes, input.width, input.height, output.width, output.height, angle, ...fill),
  ];
}

export const rotate: StepModule<number> = {
  kind: "step",
  name: "rotate",
  parse: (params) => readBare(params, integer(0, 360), 0) % 360,
  plan: (degrees, input, context) => ({
    output: rotatedSize(degrees, input),
    addsAlpha: degrees % 90 !== 0 && context.outputHasAlpha,
  }),
  ops: (degrees, { input }, context) =>
    rotateOps(degrees, input, context.hasAlpha, context.outputHasAlpha ? TRANSPARENT : WHITE, "rotate"),
};
