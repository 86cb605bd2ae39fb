import { OP, op } from "../engine/ops";
import { integer, readBare } from "../process/params";
import type { StepModule } from "../process/types";

/**
 * `bright,<v>`, v in [-100, 100]. OSS does not publish its formula (Decision 16): this adds
 * round(v * 255 / 100) to R, G and B, so ±100 is the whole 8-bit range (white or black), clamped to
 * 0..255. Alpha is untouched.
 */
export const bright: StepModule<number> = {
  kind: "step",
  name: "bright",
  parse: (params) => readBare(params, integer(-100, 100)),
  plan: (_value, input) => ({ output: input }),
  // The pixel work is wasm/src/steps/bright.c.
  ops: (value, { input }) =>
    value === 0 ? [] : [op(OP.BRIGHT, "bright", 512, input.width, input.height, value)],
};
