import { readNothing } from "../process/params";
import type { ReportModule } from "../process/types";

const hex = (channel: number) => Math.round(channel).toString(16).padStart(2, "0");

/**
 * `average-hue`: `{"RGB":"0xrrggbb"}` as JSON (Decision 7), lower-case as OSS's example: the mean
 * colour weighted by alpha, so the colour a transparent pixel happens to store does not count
 * (wasm/src/codecs/raster.c, the mean sink).
 */
export const averageHue: ReportModule<void> = {
  kind: "report",
  name: "average-hue",
  needsPixels: true,
  // Every pixel of a reduced image is a weighted mean of the original's, weights summing to one.
  reducedSide: 256,
  parse: readNothing,
  report(_options, { meanColour }) {
    if (!meanColour) throw new Error("average-hue was run without the image's mean colour.");
    const rgb = `0x${meanColour.map(hex).join("")}`;
    return { body: new TextEncoder().encode(JSON.stringify({ RGB: rgb })), contentType: "application/json" };
  },
};
