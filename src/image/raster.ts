/** Decoded pixels: 8-bit RGBA, row-major, no padding. Every pipeline step takes and returns one. */
export interface Raster {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8ClampedArray;
}

export interface Size {
  readonly width: number;
  readonly height: number;
}

/** A rectangle of pixels: its top-left corner and size. */
export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export type Rgba = readonly [number, number, number, number];

export const WHITE: Rgba = [255, 255, 255, 255];
export const TRANSPARENT: Rgba = [0, 0, 0, 0];

export function createRaster(width: number, height: number, fill: Rgba = TRANSPARENT): Raster {
  const data = new Uint8ClampedArray(width * height * 4);
  if (fill[0] || fill[1] || fill[2] || fill[3]) {
    new Uint32Array(data.buffer).fill(new Uint32Array(new Uint8ClampedArray(fill).buffer)[0]);
  }
  return { width, height, data };
}

/** Copies a rectangle that must lie inside the raster. */
export function cropRaster(image: Raster, x: number, y: number, width: number, height: number): Raster {
  if (x === 0 && y === 0 && width === image.width && height === image.height) return image;
  const data = new Uint8ClampedArray(width * height * 4);
  const rowBytes = width * 4;
  for (let row = 0; row < height; row++) {
    const from = ((y + row) * image.width + x) * 4;
    data.set(image.data.subarray(from, from + rowBytes), row * rowBytes);
  }
  return { width, height, data };
}

/** Draws `image` over `canvas` at (x, y) with source-over alpha blending, clipped to the canvas. */
export function drawOver(canvas: Raster, image: Raster, x: number, y: number): void {
  const left = Math.max(0, x);
  const top = Math.max(0, y);
  const right = Math.min(canvas.width, x + image.width);
  const bottom = Math.min(canvas.height, y + image.height);
  const dst = canvas.data;
  const src = image.data;
  for (let row = top; row < bottom; row++) {
    let s = ((row - y) * image.width + (left - x)) * 4;
    let d = (row * canvas.width + left) * 4;
    for (let col = left; col < right; col++, s += 4, d += 4) {
      const alpha = src[s + 3];
      if (alpha === 255) {
        dst[d] = src[s];
        dst[d + 1] = src[s + 1];
        dst[d + 2] = src[s + 2];
        dst[d + 3] = 255;
      } else if (alpha > 0) {
        const below = (dst[d + 3] * (255 - alpha)) / 255;
        const out = alpha + below;
        dst[d] = (src[s] * alpha + dst[d] * below) / out;
        dst[d + 1] = (src[s + 1] * alpha + dst[d + 1] * below) / out;
        dst[d + 2] = (src[s + 2] * alpha + dst[d + 2] * below) / out;
        dst[d + 3] = out;
      }
    }
  }
}

/** True when any pixel is not fully opaque. */
export function hasTransparency(image: Raster): boolean {
  const data = image.data;
  for (let i = 3; i < data.length; i += 4) if (data[i] !== 255) return true;
  return false;
}
