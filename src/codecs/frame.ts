import type { Op } from "../engine/ops";
import { cropOp, resampleOp } from "../engine/stages";
import type { Size } from "../image/raster";
import type { DecodeRequest } from "./types";

/**
 * What follows a decoder that pushes its whole frame (GIF, BMP): the crop of the request's region
 * and the resampling to its size, each only when needed.
 */
export function regionOps(frame: Size, { region, size }: DecodeRequest, hasAlpha: boolean): Op[] {
  const ops: Op[] = [];
  const whole =
    region.x === 0 && region.y === 0 && region.width === frame.width && region.height === frame.height;
  if (!whole) ops.push(cropOp(frame, region, "decode"));
  if (size.width !== region.width || size.height !== region.height) {
    ops.push(resampleOp(region, size, hasAlpha, "decode"));
  }
  return ops;
}
