import { OP, op } from "../engine/ops";
import { integer, readBare } from "../process/params";
import type { StepModule } from "../process/types";
import { gaussianBytes } from "./blur";

/** The unsharp mask's blur: a small Gaussian, so sharpening acts on fine detail and edges. */
const MASK_SIGMA = 1;
const MASK_RADIUS = 3;

/**
 * `sharpen,<v>`, v in [50, 399]. OSS does not publish its formula (Decision 16): this is an unsharp
 * mask, channel + (v / 100) * (channel - blurred) on R, G and B, blurred with a Gaussian of sigma 1.
 * So 100 (OSS's recommended value) adds the detail once, 399 about four times, which overshoots
 * visibly as OSS warns. Clamped to 0..255; alpha is untouched.
 */
export const sharpen: StepModule<number> = {
  kind: "step",
  name: "sharpen",
  parse: (params) => readBare(params, integer(50, 399)),
  plan: (_value, input) => ({ output: input }),
  // The pixel work is wasm/src/steps/sharpen.c.
  ops: (value, { input }) => [
    op(
      OP.SHARPEN,
      "sharpen",
      gaussianBytes(input.width, MASK_RADIUS, MASK_SIGMA),
      input.width,
      input.height,
      value,
    ),
  ],
};
