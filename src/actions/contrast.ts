import { channelTable, mapChannels } from "../image/filters";
import { integer, readBare } from "../process/params";
import type { StepModule } from "../process/types";

/** The grey that contrast pivots around: it maps to itself at every strength. */
const MID_GREY = 128;

/**
 * The usual contrast-correction factor, with v in [-100, 100] first scaled to c in [-255, 255]:
 * F = 259 (c + 255) / (255 (259 - c)). It is 0 at v = -100 (flat grey), 1 at v = 0 and about 130 at
 * v = 100 (nearly a threshold at mid-grey), and grows smoothly in between.
 */
export function contrastFactor(value: number): number {
  const c = (value * 255) / 100;
  return (259 * (c + 255)) / (255 * (259 - c));
}

/**
 * `contrast,<v>`, v in [-100, 100]. OSS does not publish its formula (Decision 16): each of R, G and B
 * becomes F * (channel - 128) + 128 with F from `contrastFactor`, clamped to 0..255. Alpha is untouched.
 */
export const contrast: StepModule<number> = {
  kind: "step",
  name: "contrast",
  parse: (params) => readBare(params, integer(-100, 100)),
  plan: (_value, input) => ({ output: input }),
  apply(value, image) {
    if (value === 0) return image;
    const factor = contrastFactor(value);
    return mapChannels(
      image,
      channelTable((channel) => factor * (channel - MID_GREY) + MID_GREY),
    );
  },
};
