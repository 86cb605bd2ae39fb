import { cropOp } from "../engine/stages";
import { badRequest } from "../errors";
import type { Rect, Size } from "../image/raster";
import { integer, oneOf, readNamed } from "../process/params";
import type { StepModule } from "../process/types";

const GRAVITIES = ["nw", "north", "ne", "west", "center", "east", "sw", "south", "se"] as const;
type Gravity = (typeof GRAVITIES)[number];

export interface CropOptions {
  readonly width?: number;
  readonly height?: number;
  readonly x: number;
  readonly y: number;
  readonly gravity: Gravity;
}

/** Where along one axis the anchor sits: the near edge, the middle or the far edge. */
type Anchor = "start" | "middle" | "end";

const COLUMN: Record<Gravity, Anchor> = {
  nw: "start",
  west: "start",
  sw: "start",
  north: "middle",
  center: "middle",
  south: "middle",
  ne: "end",
  east: "end",
  se: "end",
};
const ROW: Record<Gravity, Anchor> = {
  nw: "start",
  north: "start",
  ne: "start",
  west: "middle",
  center: "middle",
  east: "middle",
  sw: "end",
  south: "end",
  se: "end",
};

/** One axis of Decision 5: origin at the anchor, offset inward, then clipped to the image. */
function place(anchor: Anchor, imageLength: number, length: number, offset: number): [number, number] {
  const start =
    anchor === "start"
      ? offset
      : anchor === "middle"
        ? Math.floor(imageLength / 2 - length / 2) + offset
        : imageLength - length - offset;
  const clippedStart = Math.max(0, start);
  const clippedEnd = Math.min(imageLength, start + length);
  if (start >= imageLength || clippedEnd <= clippedStart) {
    throw badRequest("Advance cut's position is out of image.");
  }
  return [clippedStart, clippedEnd - clippedStart];
}

export function cropRect(options: CropOptions, input: Size): Rect {
  const [x, width] = place(COLUMN[options.gravity], input.width, options.width || input.width, options.x);
  const [y, height] = place(ROW[options.gravity], input.height, options.height || input.height, options.y);
  return { x, y, width, height };
}

const coordinate = integer(0, 1_000_000);

export const crop: StepModule<CropOptions> = {
  kind: "step",
  name: "crop",
  parse(params) {
    const raw = readNamed(params, {
      w: coordinate,
      h: coordinate,
      x: coordinate,
      y: coordinate,
      g: oneOf(...GRAVITIES),
    });
    return { width: raw.w, height: raw.h, x: raw.x ?? 0, y: raw.y ?? 0, gravity: raw.g ?? "nw" };
  },
  plan(options, input) {
    const rect = cropRect(options, input);
    return { output: { width: rect.width, height: rect.height }, region: rect };
  },
  ops(options, { input }) {
    return [cropOp(input, cropRect(options, input))];
  },
};
