import { gaussianBlur } from "../image/filters";
import { integer, readBare } from "../process/params";
import type { StepModule } from "../process/types";

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
  apply(value, image) {
    // The blurred copy becomes the output in place: one raster allocated, not two.
    const out = gaussianBlur(image, MASK_RADIUS, MASK_SIGMA);
    const src = image.data;
    const dst = out.data;
    for (let i = 0; i < src.length; i += 4) {
      dst[i] = src[i] + (value * (src[i] - dst[i])) / 100;
      dst[i + 1] = src[i + 1] + (value * (src[i + 1] - dst[i + 1])) / 100;
      dst[i + 2] = src[i + 2] + (value * (src[i + 2] - dst[i + 2])) / 100;
    }
    return out;
  },
};
