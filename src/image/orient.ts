import type { Rect, Size } from "./raster";

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
