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

/**
 * OSS's limit on a resize's target (reference §1 "Resized output", Decision 20): each side at most
 * 16,384 (the format's own limit if smaller) and at most 16,777,216 pixels. A re-encode at the
 * source's size, a rotation's larger canvas and the other steps are bounded by the source limits
 * and the memory plan instead.
 */
export function checkResizeTarget(size: Size, maxSide: number): void {
  const side = Math.min(LIMITS.outputSide, maxSide);
  if (size.width > side || size.height > side || size.width * size.height > LIMITS.outputPixels) {
    throw imageTooLarge(
      `The result would be ${size.width}x${size.height}; each side must be at most ${side} and the area at most ${LIMITS.outputPixels} pixels.`,
      "0040-00000007",
    );
  }
}

/** The largest side the output format can store (WebP 16,383). */
export function checkFormatSide(size: Size, maxSide: number): void {
  if (size.width > maxSide || size.height > maxSide) {
    throw imageTooLarge(
      `The result would be ${size.width}x${size.height}; this format stores at most ${maxSide} pixels a side.`,
      "0040-00000007",
    );
  }
}
