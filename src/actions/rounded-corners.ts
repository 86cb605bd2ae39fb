import { invalidArgument } from "../errors";
import { clipRoundedRect } from "../image/mask";
import { TRANSPARENT, WHITE } from "../image/raster";
import type { StepModule } from "../process/types";
import { readRadius } from "./circle";

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
    return { output: input };
  },
  apply(radius, image, _geometry, context) {
    const capped = Math.min(radius, image.width / 2, image.height / 2);
    return clipRoundedRect(image, capped, context.outputHasAlpha ? TRANSPARENT : WHITE);
  },
};
