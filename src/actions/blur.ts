import { OP, op } from "../engine/ops";
import { invalidArgument, OssError } from "../errors";
import { integer, readNamed } from "../process/params";
import type { StepModule } from "../process/types";

/**
 * What the streamed Gaussian holds (wasm/src/steps/gaussian.c): 2 reach + 1 rows blurred along
 * x (16-byte float RGBA) and the same rows as they came (4 bytes), a padded row and a row of sums.
 * The kernel reaches at most 3 sigma: beyond it a tap adds nothing visible to an 8-bit value.
 */
export function gaussianBytes(width: number, radius: number, sigma: number): number {
  const reach = Math.min(radius, Math.ceil(3 * sigma));
  const rows = 2 * reach + 1;
  return 512 + rows * width * 20 + (width + 2 * reach) * 16 + width * 16;
}

export interface BlurOptions {
  readonly radius: number;
  readonly sigma: number;
}

const FACE_PARAMS = ["g", "p"];

/**
 * `blur,r_<radius>,s_<sigma>`, both required and in [1, 50]. OSS does not publish its formula
 * (Decision 16): a separable Gaussian with standard deviation s whose kernel reaches at most r pixels
 * each side (see `gaussianBlur`). Alpha is untouched. Face blur (`g`, `p`) needs face detection this
 * service does not have, so it is refused by name rather than as an unknown parameter.
 */
export const blur: StepModule<BlurOptions> = {
  kind: "step",
  name: "blur",
  parse(params) {
    const face = FACE_PARAMS.find((name) => params.named.has(name));
    if (face !== undefined) {
      throw invalidArgument(
        `Face blur (parameter: ${face} of action: blur) is not supported by this service.`,
      );
    }
    const raw = readNamed(params, { r: integer(1, 50), s: integer(1, 50) });
    if (raw.r === undefined || raw.s === undefined) {
      const missing = raw.r === undefined ? "r" : "s";
      throw new OssError("MissingArgument", `The parameter: ${missing} of action: blur is required.`);
    }
    return { radius: raw.r, sigma: raw.s };
  },
  plan: (_options, input) => ({ output: input }),
  ops: ({ radius, sigma }, { input }) => [
    op(OP.BLUR, "blur", gaussianBytes(input.width, radius, sigma), input.width, input.height, radius, sigma),
  ],
};
