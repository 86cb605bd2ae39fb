import type { Raster, Rect, Size } from "./raster";

/**
 * Applies an EXIF orientation (1..8) so the stored pixels come out upright. Orientations 5..8 swap
 * width and height. rotate uses 6, 3 and 8 for its exact quarter turns.
 */
export function applyOrientation(image: Raster, orientation: number): Raster {
  if (orientation < 2 || orientation > 8) return image;
  const { width: w, height: h } = image;
  const swaps = orientation >= 5;
  const outWidth = swaps ? h : w;
  const outHeight = swaps ? w : h;
  // Where output pixel (x, y) reads from, as source = origin + x * stepX + y * stepY (in pixels).
  const [origin, stepX, stepY] = sourceWalk(orientation, w, h);
  const src = new Uint32Array(image.data.buffer, image.data.byteOffset, w * h);
  const out = new Uint32Array(outWidth * outHeight);
  let o = 0;
  for (let y = 0; y < outHeight; y++) {
    let s = origin + y * stepY;
    for (let x = 0; x < outWidth; x++, s += stepX) out[o++] = src[s];
  }
  return { width: outWidth, height: outHeight, data: new Uint8ClampedArray(out.buffer) };
}

function sourceWalk(orientation: number, w: number, h: number): [number, number, number] {
  switch (orientation) {
    case 2: // mirror horizontally
      return [w - 1, -1, w];
    case 3: // rotate 180
      return [w * h - 1, -1, -w];
    case 4: // mirror vertically
      return [(h - 1) * w, 1, -w];
    case 5: // transpose
      return [0, w, 1];
    case 6: // rotate 90 clockwise
      return [(h - 1) * w, -w, 1];
    case 7: // transverse
      return [w * h - 1, -w, -1];
    default: // 8: rotate 90 counter-clockwise
      return [w - 1, w, -1];
  }
}

/**
 * Where a rectangle of the upright image (after `orientation` is applied) lies in the stored
 * image of size `stored`: what a decoder must read to produce it.
 */
export function storedRect(rect: Rect, orientation: number, stored: Size): Rect {
  const { x, y, width: w, height: h } = rect;
  const { width: W, height: H } = stored;
  switch (orientation) {
    case 2:
      return { x: W - x - w, y, width: w, height: h };
    case 3:
      return { x: W - x - w, y: H - y - h, width: w, height: h };
    case 4:
      return { x, y: H - y - h, width: w, height: h };
    case 5:
      return { x: y, y: x, width: h, height: w };
    case 6:
      return { x: y, y: H - x - w, width: h, height: w };
    case 7:
      return { x: W - y - h, y: H - x - w, width: h, height: w };
    case 8:
      return { x: W - y - h, y: x, width: h, height: w };
    default:
      return rect;
  }
}
