import type { Raster, Rgba } from "./raster";

/**
 * Keeps the rounded rectangle that fills the raster, with corner radius `radius` (at most half the
 * shorter side; a square with half its side as radius is a circle), and replaces what lies outside
 * it by `fill`: transparent when the output keeps alpha, white otherwise. Works in place.
 *
 * Edge pixels are anti-aliased by coverage: a pixel whose centre lies at distance d from the
 * nearest corner's centre is covered by about `radius - d + 0.5` (clamped to [0, 1]), which fades
 * the edge over one pixel. Only the corner squares can be uncovered, so only they are visited.
 */
export function clipRoundedRect(image: Raster, radius: number, fill: Rgba): Raster {
  const { width: w, height: h, data } = image;
  const band = Math.min(Math.ceil(radius), w, h);
  // Pixel centres sit at half-integers; the nearest point on the rectangle shrunk by the radius is
  // the centre of the corner arc that shapes the pixel (or the pixel itself along straight edges).
  const right = w - radius;
  const bottom = h - radius;
  const [fillR, fillG, fillB, fillA] = fill;
  for (let y = 0; y < h; y++) {
    if (y === band && h - band > band) y = h - band;
    const cy = y + 0.5;
    const dy = cy < radius ? radius - cy : cy > bottom ? cy - bottom : 0;
    for (let x = 0; x < w; x++) {
      if (x === band && w - band > band) x = w - band;
      const cx = x + 0.5;
      const dx = cx < radius ? radius - cx : cx > right ? cx - right : 0;
      const coverage = Math.min(1, Math.max(0, radius - Math.sqrt(dx * dx + dy * dy) + 0.5));
      if (coverage === 1) continue;
      // The pixel over the fill, weighted by coverage, in premultiplied alpha.
      const i = (y * w + x) * 4;
      const kept = coverage * data[i + 3];
      const added = (1 - coverage) * fillA;
      const alpha = kept + added;
      if (alpha > 0) {
        data[i] = (data[i] * kept + fillR * added) / alpha;
        data[i + 1] = (data[i + 1] * kept + fillG * added) / alpha;
        data[i + 2] = (data[i + 2] * kept + fillB * added) / alpha;
      }
      data[i + 3] = alpha;
    }
  }
  return image;
}
