import { cropOp } from "../engine/stages";
import { OssError } from "../errors";
import type { Rect, Size } from "../image/raster";
import { integer, readNamed } from "../process/params";
import type { StepModule } from "../process/types";

export interface IndexcropOptions {
  /** `x` cuts vertical strips `length` wide, `y` horizontal strips `length` high. */
  readonly axis: "x" | "y";
  readonly length: number;
  readonly index: number;
}

/** Same bounds as crop's coordinates: far beyond any source side (30,000), so never a real limit. */
const length = integer(1, 1_000_000);
const index = integer(0, 1_000_000);

/**
 * The strip to keep (Decision 6), or undefined when the index is past the last strip and the
 * image is returned unchanged. A partial last strip counts; a length beyond the side is one strip.
 */
export function indexcropRect({ axis, length, index }: IndexcropOptions, input: Size): Rect | undefined {
  const side = axis === "x" ? input.width : input.height;
  const start = index * length;
  if (start >= side) return undefined;
  const extent = Math.min(length, side - start);
  return axis === "x"
    ? { x: start, y: 0, width: extent, height: input.height }
    : { x: 0, y: start, width: input.width, height: extent };
}

export const indexcrop: StepModule<IndexcropOptions> = {
  kind: "step",
  name: "indexcrop",
  parse(params) {
    const raw = readNamed(params, { x: length, y: length, i: index });
    // Reference §4: with both, y wins.
    const axis = raw.y !== undefined ? "y" : raw.x !== undefined ? "x" : undefined;
    if (!axis) throw new OssError("MissingArgument", "The action: indexcrop needs the parameter x or y.");
    return { axis, length: raw[axis] as number, index: raw.i ?? 0 };
  },
  plan(options, input) {
    const rect = indexcropRect(options, input);
    return rect ? { output: { width: rect.width, height: rect.height }, region: rect } : { output: input };
  },
  ops(options, { input }) {
    const rect = indexcropRect(options, input);
    return rect ? [cropOp(input, rect, "indexcrop")] : [];
  },
};
