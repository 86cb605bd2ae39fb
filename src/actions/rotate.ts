import { applyOrientation } from "../image/orient";
import { createRaster, type Raster, type Rgba, type Size, TRANSPARENT, WHITE } from "../image/raster";
import { integer, readBare } from "../process/params";
import type { StepModule } from "../process/types";

/** EXIF orientations that perform the exact quarter turns. */
const QUARTER_TURNS: Record<number, number> = { 90: 6, 180: 3, 270: 8 };

export function rotatedSize(degrees: number, input: Size): Size {
  const angle = degrees % 360;
  if (angle === 0 || angle === 180) return input;
  if (angle === 90 || angle === 270) return { width: input.height, height: input.width };
  const radians = (angle * Math.PI) / 180;
  const cos = Math.abs(Math.cos(radians));
  const sin = Math.abs(Math.sin(radians));
  return {
    width: Math.round(input.width * cos + input.height * sin),
    height: Math.round(input.width * sin + input.height * cos),
  };
}

/**
 * Clockwise rotation by any angle onto the bounding canvas (Decision 15): bilinear sampling in
 * premultiplied alpha, exposed corners transparent when the output keeps alpha, white otherwise.
 */
function rotateFree(image: Raster, degrees: number, size: Size, fill: Rgba): Raster {
  const out = createRaster(size.width, size.height, fill);
  const radians = (degrees * Math.PI) / 180;
  const cos = Math.cos(radians);
  const sin = Math.sin(radians);
  const { width: w, height: h, data: src } = image;
  const dst = out.data;
  const centreX = (w - 1) / 2;
  const centreY = (h - 1) / 2;
  const outCentreX = (size.width - 1) / 2;
  const outCentreY = (size.height - 1) / 2;
  const fillAlpha = fill[3];
  const sample = [0, 0, 0, 0];
  for (let oy = 0; oy < size.height; oy++) {
    const dy = oy - outCentreY;
    for (let ox = 0; ox < size.width; ox++) {
      const dx = ox - outCentreX;
      // Inverse of a clockwise turn on a y-down grid.
      const sx = dx * cos + dy * sin + centreX;
      const sy = -dx * sin + dy * cos + centreY;
      if (sx <= -1 || sy <= -1 || sx >= w || sy >= h) continue;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      sample[0] = sample[1] = sample[2] = sample[3] = 0;
      for (let corner = 0; corner < 4; corner++) {
        const cx = x0 + (corner & 1);
        const cy = y0 + (corner >> 1);
        const weight = (corner & 1 ? fx : 1 - fx) * (corner >> 1 ? fy : 1 - fy);
        if (weight === 0) continue;
        let r: number;
        let g: number;
        let b: number;
        let a: number;
        if (cx < 0 || cy < 0 || cx >= w || cy >= h) {
          [r, g, b, a] = fill;
        } else {
          const i = (cy * w + cx) * 4;
          r = src[i];
          g = src[i + 1];
          b = src[i + 2];
          a = src[i + 3];
        }
        const premultiplied = weight * a;
        sample[0] += r * premultiplied;
        sample[1] += g * premultiplied;
        sample[2] += b * premultiplied;
        sample[3] += premultiplied;
      }
      const o = (oy * size.width + ox) * 4;
      if (sample[3] > 0) {
        dst[o] = sample[0] / sample[3];
        dst[o + 1] = sample[1] / sample[3];
        dst[o + 2] = sample[2] / sample[3];
      }
      dst[o + 3] = fillAlpha === 255 ? 255 : sample[3];
    }
  }
  return out;
}

/** Clockwise rotation by any whole angle: exact quarter turns, sampled otherwise. */
export function rotateImage(image: Raster, degrees: number, fill: Rgba): Raster {
  const angle = degrees % 360;
  if (angle === 0) return image;
  const quarter = QUARTER_TURNS[angle];
  if (quarter) return applyOrientation(image, quarter);
  return rotateFree(image, angle, rotatedSize(angle, image), fill);
}

export const rotate: StepModule<number> = {
  kind: "step",
  name: "rotate",
  parse: (params) => readBare(params, integer(0, 360), 0) % 360,
  plan: (degrees, input) => ({ output: rotatedSize(degrees, input) }),
  apply: (degrees, image, _geometry, context) =>
    rotateImage(image, degrees, context.outputHasAlpha ? TRANSPARENT : WHITE),
};
