import { OP, op } from "../engine/ops";
import { integer, readBare } from "../process/params";
import type { StepModule } from "../process/types";

/**
 * `contrast,<v>`, v in [-100, 100]. OSS does not publish its formula (Decision 16): each of R, G and B
 * becomes F (channel - 128) + 128, clamped, with F = 259 (c + 255) / (255 (259 - c)) for v scaled to
 * c in [-255, 255] (wasm/src/steps/contrast.c). Alpha is untouched.
 */
export const contrast: StepModule<number> = {
  kind: "step",
  name: "contrast",
  parse: (params) => readBare(params, integer(-100, 100)),
  plan: (_value, input) => ({ output: input }),
  // The pixel work is wasm/src/steps/contrast.c.
  ops: (value, { input }) =>
    value === 0 ? [] : [op(OP.CONTRAST, "contrast", 512, input.width, input.height, value)],
};
