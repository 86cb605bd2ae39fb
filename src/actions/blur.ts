import { invalidArgument, OssError } from "../errors";
import { gaussianBlur } from "../image/filters";
import { integer, readNamed } from "../process/params";
import type { StepModule } from "../process/types";

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
  apply: (options, image) => gaussianBlur(image, options.radius, options.sigma),
};
