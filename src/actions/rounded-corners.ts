import { OP, type Op, op } from "../engine/ops";
import { invalidArgument } from "../errors";
import { type Rgba, type Size, TRANSPARENT, WHITE } from "../image/raster";
import type { StepModule } from "../process/types";
import { readRadius } from "./circle";

/**
 * Keeps the rounded rectangle that fills the frame, corners on arcs of `radius`, and replaces what
 * lies outside by `fill`, anti-aliased over a pixel (wasm/src/steps/rounded_corners.c).
 */
export const roundedCornersOp = (size: Size, radius: number, fill: Rgba, stage: string): Op =>
  op(OP.ROUNDED_CORNERS, stage, 256, size.width, size.height, radius, ...fill);

/**
 * `rounded-corners,r_<radius>`: same size, corners cut on arcs of radius r (capped at half the
 * shortest edge, reference §6), transparent where the output keeps alpha, white otherwise.
 */
export const roundedCorners: StepModule<number> = {
  kind: "step",
  name: "rounded-corners",
  parse: readRadius,
  plan(_radius, input, context) {
    if (context.source.format === "gif") {
      throw invalidArgument("The action: rounded-corners is not supported for GIF images.");
    }
    return { output: input, addsAlpha: context.outputHasAlpha };
  },
  ops(radius, { input }, context) {
    const capped = Math.min(radius, input.width / 2, input.height / 2);
    return [roundedCornersOp(input, capped, context.outputHasAlpha ? TRANSPARENT : WHITE, "rounded-corners")];
  },
};
