import { cropOp } from "../engine/stages";
import { OssError } from "../errors";
import { type Size, TRANSPARENT, WHITE } from "../image/raster";
import { integer, readNamed } from "../process/params";
import type { ActionParams, StepModule } from "../process/types";
import { roundedCornersOp } from "./rounded-corners";

/** The required `r_<radius>` of circle and rounded-corners, [1, 4096] (reference §5, §6). */
export function readRadius(params: ActionParams): number {
  const { r } = readNamed(params, { r: integer(1, 4096) });
  if (r === undefined)
    throw new OssError("MissingArgument", `The action: ${params.action} needs the parameter r.`);
  return r;
}

/**
 * The radius actually drawn. Reference §5 caps r at (shorter side - 1) / 2 when it exceeds half
 * the shorter side; capping with a plain minimum also covers r equal to half an even side, where
 * the literal rule would give a square one pixel larger than the image.
 */
export function circleRadius(radius: number, input: Size): number {
  return Math.min(radius, Math.floor((Math.min(input.width, input.height) - 1) / 2));
}

/** The (2r+1)-pixel square around the image centre that holds the circle. */
function circleSquare(radius: number, input: Size) {
  const side = 2 * circleRadius(radius, input) + 1;
  return {
    x: Math.floor((input.width - side) / 2),
    y: Math.floor((input.height - side) / 2),
    side,
  };
}

/**
 * `circle,r_<radius>`: the square around the centre, cut to the disc inscribed in it (which
 * touches its four edges), transparent outside where the output keeps alpha, white otherwise.
 */
export const circle: StepModule<number> = {
  kind: "step",
  name: "circle",
  parse: readRadius,
  plan(radius, input, context) {
    const { side } = circleSquare(radius, input);
    return { output: { width: side, height: side }, addsAlpha: context.outputHasAlpha };
  },
  ops(radius, { input }, context) {
    const { x, y, side } = circleSquare(radius, input);
    const square = { width: side, height: side };
    const fill = context.outputHasAlpha ? TRANSPARENT : WHITE;
    return [cropOp(input, { x, y, ...square }, "circle"), roundedCornersOp(square, side / 2, fill, "circle")];
  },
};
