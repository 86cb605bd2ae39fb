import type { Raster } from "../image/raster";
import { readNothing } from "../process/params";
import type { ReportModule } from "../process/types";

/**
 * The mean colour of the image weighted by alpha, so that the colour a transparent pixel happens
 * to store does not count: for an opaque image this is the plain mean. An image with no visible
 * pixel at all falls back to the plain mean of what it stores.
 */
export function averageColour({ data }: Raster): [number, number, number] {
  let r = 0;
  let g = 0;
  let b = 0;
  let weight = 0;
  let plainR = 0;
  let plainG = 0;
  let plainB = 0;
  for (let i = 0; i < data.length; i += 4) {
    const a = data[i + 3];
    r += data[i] * a;
    g += data[i + 1] * a;
    b += data[i + 2] * a;
    weight += a;
    plainR += data[i];
    plainG += data[i + 1];
    plainB += data[i + 2];
  }
  if (weight > 0) return [r / weight, g / weight, b / weight].map(Math.round) as [number, number, number];
  const count = Math.max(1, data.length / 4);
  return [plainR / count, plainG / count, plainB / count].map(Math.round) as [number, number, number];
}

const hex = (channel: number) => channel.toString(16).padStart(2, "0");

/** `average-hue`: `{"RGB":"0xrrggbb"}` as JSON (Decision 7), lower-case as OSS's example. */
export const averageHue: ReportModule<void> = {
  kind: "report",
  name: "average-hue",
  needsPixels: true,
  // Every pixel of a reduced image is a weighted mean of the original's, weights summing to one.
  reducedSide: 256,
  parse: readNothing,
  report(_options, { pixels }) {
    if (!pixels) throw new Error("average-hue was run without decoded pixels.");
    const rgb = `0x${averageColour(pixels).map(hex).join("")}`;
    return { body: new TextEncoder().encode(JSON.stringify({ RGB: rgb })), contentType: "application/json" };
  },
};
