/**
 * An anti-aliased scanline rasterizer for glyph outlines, by signed-area accumulation: each edge adds,
 * to the cells it crosses, the area between itself and the cell's right side (signed by direction);
 * a running sum along each row then gives the coverage of every pixel. Nonzero winding falls out as
 * |sum| clamped to 1: overlapping contours of one direction saturate, opposite ones (holes) cancel.
 */
import type { Contour } from "./font";

/** Font units to mask pixels: x' = dx + scale·x, y' = dy − scale·y (font y points up). */
export interface Placement {
  readonly scale: number;
  readonly dx: number;
  readonly dy: number;
}

/**
 * How far a flattened curve may stray from the true one, in pixels. Well under the 1/255 of a pixel's
 * coverage that would show, across the short curves of a glyph.
 */
const FLATNESS = 0.1;
/** Segments per curve at most, whatever the size: beyond this the error is invisible anyway. */
const MAX_CURVE_STEPS = 64;

/** Signed-area cells for one rectangle of pixels. */
export class Accumulator {
  /** One spare column per row: the edge of the rightmost pixel spills its remainder there. */
  private readonly cells: Float32Array;
  private readonly stride: number;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.stride = width + 1;
    this.cells = new Float32Array(this.stride * height);
  }

  /** Adds a straight edge, in this rectangle's pixel coordinates (y down); the rest clips itself. */
  line(x0: number, y0: number, x1: number, y1: number): void {
    if (y0 === y1) return; // horizontal edges enclose no area along a row
    let direction = 1;
    if (y0 > y1) {
      [x0, y0, x1, y1] = [x1, y1, x0, y0];
      direction = -1;
    }
    const top = Math.max(y0, 0);
    const bottom = Math.min(y1, this.height);
    if (top >= bottom) return;
    const dxdy = (x1 - x0) / (y1 - y0);
    for (let row = Math.floor(top); row < bottom; row++) {
      const ya = Math.max(row, top);
      const yb = Math.min(row + 1, bottom);
      const xa = x0 + (ya - y0) * dxdy;
      const xb = x0 + (yb - y0) * dxdy;
      this.span(row, Math.min(xa, xb), Math.max(xa, xb), (yb - ya) * direction);
    }
  }

  /** Adds a quadratic Bézier, split into lines fine enough that the error stays under FLATNESS. */
  quadratic(x0: number, y0: number, cx: number, cy: number, x1: number, y1: number): void {
    // B''(t) is constant, 2·(p0 − 2c + p1); a chord over a step of 1/n strays at most |p0 − 2c + p1|/(4n²).
    const ddx = x0 - 2 * cx + x1;
    const ddy = y0 - 2 * cy + y1;
    const deviation = Math.hypot(ddx, ddy) / 4;
    const steps = Math.min(MAX_CURVE_STEPS, Math.max(1, Math.ceil(Math.sqrt(deviation / FLATNESS))));
    let px = x0;
    let py = y0;
    for (let i = 1; i <= steps; i++) {
      const t = i / steps;
      const u = 1 - t;
      const x = u * u * x0 + 2 * u * t * cx + t * t * x1;
      const y = u * u * y0 + 2 * u * t * cy + t * t * y1;
      this.line(px, py, x, y);
      px = x;
      py = y;
    }
  }

  /**
   * One row's share of an edge running between x = `lo` and `hi` over `height` (signed) of the row.
   * Which end is higher does not matter: each cell only needs the piece's x extent and height.
   */
  private span(row: number, lo: number, hi: number, height: number): void {
    const cells = this.cells;
    const base = row * this.stride;
    const width = this.width;
    if (hi - lo < 1e-9) {
      if (lo >= width) return;
      if (lo <= 0) {
        cells[base] += height;
        return;
      }
      const cell = Math.floor(lo);
      const right = lo - cell;
      cells[base + cell] += height * (1 - right);
      cells[base + cell + 1] += height * right;
      return;
    }
    const perUnit = height / (hi - lo);
    if (lo < 0) {
      // Left of the rectangle the edge still covers all of it: its area lands in the first cell.
      cells[base] += perUnit * (Math.min(hi, 0) - lo);
      lo = 0;
      if (hi <= 0) return;
    }
    hi = Math.min(hi, width); // right of the rectangle it covers nothing visible
    for (let cell = Math.floor(lo); cell < hi; cell++) {
      const a = Math.max(lo, cell);
      const b = Math.min(hi, cell + 1);
      const piece = perUnit * (b - a);
      const middle = (a + b) / 2 - cell;
      cells[base + cell] += piece * (1 - middle);
      cells[base + cell + 1] += piece * middle;
    }
  }

  /** Resolves the coverage and adds it to `target` (saturating), with this rectangle at (left, top). */
  addTo(target: Uint8Array, targetWidth: number, left: number, top: number): void {
    for (let row = 0; row < this.height; row++) {
      let sum = 0;
      const from = row * this.stride;
      const to = (top + row) * targetWidth + left;
      for (let x = 0; x < this.width; x++) {
        sum += this.cells[from + x];
        const coverage = Math.min(1, Math.abs(sum));
        if (coverage > 0) target[to + x] = Math.min(255, target[to + x] + Math.round(coverage * 255));
      }
    }
  }
}

/** Adds the outline's edges, placed in pixel space, to an accumulator whose origin is (left, top). */
export function addOutline(
  accumulator: Accumulator,
  contours: readonly Contour[],
  placement: Placement,
  left = 0,
  top = 0,
): void {
  const { scale } = placement;
  const dx = placement.dx - left;
  const dy = placement.dy - top;
  for (const contour of contours) {
    const n = contour.length;
    if (n < 2) continue;
    const px = (i: number) => dx + contour[i].x * scale;
    const py = (i: number) => dy - contour[i].y * scale;
    // Start on an on-curve point; a contour of control points only starts between its last and first.
    let first = contour.findIndex((p) => p.onCurve);
    let startX: number;
    let startY: number;
    if (first < 0) {
      startX = (px(n - 1) + px(0)) / 2;
      startY = (py(n - 1) + py(0)) / 2;
      first = -1;
    } else {
      startX = px(first);
      startY = py(first);
    }
    let x = startX;
    let y = startY;
    let control = false;
    let cx = 0;
    let cy = 0;
    const steps = first < 0 ? n : n - 1;
    for (let k = 1; k <= steps; k++) {
      const i = (first + k) % n;
      const nx = px(i);
      const ny = py(i);
      if (contour[i].onCurve) {
        if (control) accumulator.quadratic(x, y, cx, cy, nx, ny);
        else accumulator.line(x, y, nx, ny);
        x = nx;
        y = ny;
        control = false;
      } else {
        if (control) {
          // Two control points in a row imply an on-curve point halfway between them.
          const mx = (cx + nx) / 2;
          const my = (cy + ny) / 2;
          accumulator.quadratic(x, y, cx, cy, mx, my);
          x = mx;
          y = my;
        }
        cx = nx;
        cy = ny;
        control = true;
      }
    }
    if (control) accumulator.quadratic(x, y, cx, cy, startX, startY);
    else accumulator.line(x, y, startX, startY);
  }
}

/**
 * Fills a glyph outline into an 8-bit coverage mask (row-major, `width` wide), adding to what is
 * there. Only the glyph's bounding box, clipped to the mask, is accumulated, so the scratch memory
 * stays that of one glyph however long the line of text.
 */
export function fillOutline(
  mask: Uint8Array,
  width: number,
  height: number,
  contours: readonly Contour[],
  placement: Placement,
): void {
  let minX = Number.POSITIVE_INFINITY;
  let minY = Number.POSITIVE_INFINITY;
  let maxX = Number.NEGATIVE_INFINITY;
  let maxY = Number.NEGATIVE_INFINITY;
  // A quadratic curve stays inside its control polygon, so the points bound the glyph.
  for (const contour of contours) {
    for (const p of contour) {
      const x = placement.dx + p.x * placement.scale;
      const y = placement.dy - p.y * placement.scale;
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
    }
  }
  const left = Math.max(0, Math.floor(minX));
  const top = Math.max(0, Math.floor(minY));
  const right = Math.min(width, Math.ceil(maxX));
  const bottom = Math.min(height, Math.ceil(maxY));
  if (!(right > left && bottom > top)) return;
  const accumulator = new Accumulator(right - left, bottom - top);
  addOutline(accumulator, contours, placement, left, top);
  accumulator.addTo(mask, width, left, top);
}
