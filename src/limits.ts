import { imageTooLarge } from "./errors";
import type { ImageHeader } from "./image/header";
import type { Size } from "./image/raster";

/** OSS's documented limits (reference §1, Decision 20). */
export const LIMITS = {
  sourceBytes: 20 * 1024 * 1024,
  sourceSide: 30_000,
  tiffSide: 16_384,
  sourcePixels: 250_000_000,
  outputSide: 16_384,
  outputPixels: 16_777_216,
} as const;

/**
 * Limits on what a request may ask for, which OSS does not publish: generous for real use (a
 * style with three watermarks is under 1,000 characters), tight enough that parsing and planning
 * stay cheap whatever a client sends. OSS's own: object keys of 1 to 1,023 bytes.
 */
export const REQUEST_LIMITS = {
  processLength: 4096,
  actions: 32,
  keyBytes: 1023,
} as const;

/**
 * Memory a pixel step adds on top of its input (already counted by whoever made it): the output,
 * in JS and, for resampling, in the codec engine's heap (4 + 4 per output pixel), and a working
 * copy of up to 5 bytes per input pixel (blur's 16-bit intermediate plane is the largest).
 */
export function stepBytes(input: Size, output: Size): number {
  return 5 * input.width * input.height + 8 * output.width * output.height;
}

export function checkSourceBytes(size: number): void {
  if (size > LIMITS.sourceBytes) {
    throw imageTooLarge(
      `The source image is ${size} bytes; the limit is ${LIMITS.sourceBytes}.`,
      "0040-00000009",
    );
  }
}

export function checkSourceSize(header: ImageHeader): void {
  const maxSide = header.format === "tiff" ? LIMITS.tiffSide : LIMITS.sourceSide;
  if (header.width > maxSide || header.height > maxSide) {
    throw imageTooLarge(
      `The source image is ${header.width}x${header.height}; each side must be at most ${maxSide}.`,
      "0040-00000009",
    );
  }
  const pixels = header.width * header.height * header.frames;
  if (pixels > LIMITS.sourcePixels) {
    throw imageTooLarge(
      `The source image has ${pixels} pixels (width x height x frames); the limit is ${LIMITS.sourcePixels}.`,
      "0040-00000012",
    );
  }
}

export function checkOutputSize(size: Size, maxSide: number): void {
  const side = Math.min(LIMITS.outputSide, maxSide);
  if (size.width > side || size.height > side || size.width * size.height > LIMITS.outputPixels) {
    throw imageTooLarge(
      `The result would be ${size.width}x${size.height}; each side must be at most ${side} and the area at most ${LIMITS.outputPixels} pixels.`,
      "0040-00000007",
    );
  }
}
