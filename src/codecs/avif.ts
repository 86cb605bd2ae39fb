import AVIF_ENCODER from "@jsquash/avif/codec/enc/avif_enc.wasm";
import encodeAvif, { init as initAvifEncoder } from "@jsquash/avif/encode";
import { OP } from "../engine/ops";
import type { HeifImageLayout } from "../image/heif";
import { expectCodec, heifDecodeOp, heifDecoderBytes, heifOps } from "./heif";
import { type EngineDecoder, once, type ScriptEncoder } from "./types";

const encoderReady = once(async () => {
  await initAvifEncoder(AVIF_ENCODER);
});

/**
 * dav1d's picture as its default allocator lays it out (dav1d 1.0.0 src/picture.c): sides rounded
 * up to 128, 64 bytes more on strides that are multiples of 1024, 64 bytes of alignment.
 */
export function dav1dPictureBytes(image: HeifImageLayout): number {
  const width = Math.ceil(image.tileWidth / 128) * 128;
  const height = Math.ceil(image.tileHeight / 128) * 128;
  const wide = image.bits > 8 ? 2 : 1;
  let yStride = width * wide;
  let uvStride = image.monochrome ? 0 : yStride / (image.subsampleX ? 2 : 1);
  if (yStride % 1024 === 0) yStride += 64;
  if (!image.monochrome && uvStride % 1024 === 0) uvStride += 64;
  return yStride * height + 2 * uvStride * (height / (image.subsampleY ? 2 : 1)) + 64 + 256;
}

/**
 * dav1d's own state while it decodes one frame on one thread: fixed tables and contexts, plus
 * per-pixel line buffers, loop-filter masks, CDEF and loop-restoration lines and the
 * intra-prediction edges (measured in test/formats-avif.test.ts against the engine's peak).
 */
export function dav1dStateBytes(image: HeifImageLayout): number {
  const pixels = image.tileWidth * image.tileHeight;
  return DAV1D_FIXED_BYTES + DAV1D_BYTES_PER_PIXEL * pixels * (image.bits > 8 ? 2 : 1);
}
const DAV1D_FIXED_BYTES = 2 * 1024 * 1024;
const DAV1D_BYTES_PER_PIXEL = 0.5;

/**
 * AVIF in the codec engine (wasm/src/codecs/avif.c): dav1d decodes the AV1 picture at its own
 * size and sample format; the container code turns it into RGBA strips, so the whole RGBA frame
 * is never held. A grid AVIF is decoded a tile row at a time. Colour management takes a colr
 * ICC profile; irot/imir are applied by the plan as an orientation.
 */
export const avifDecoder: EngineDecoder = {
  inEngine: true,
  ops(header, request, source) {
    expectCodec(header, "av01");
    const bytes = heifDecoderBytes(header, (tile, coded) => ({
      decoding: coded + dav1dStateBytes(tile),
      picture: dav1dPictureBytes(tile),
    }));
    return heifOps(header, request, heifDecodeOp(OP.DECODE_AVIF, bytes, source));
  },
};

const DEFAULT_QUALITY = 60;
/** libaom speed 0 (slowest) .. 10; 8 keeps edge latency reasonable at a small size cost. */
const ENCODER_SPEED = 8;

export const avifEncoder: ScriptEncoder = {
  inEngine: false,
  hasAlpha: true,
  maxSide: 65536,
  bytesPerPixel: 16,
  async encode(image, { quality }) {
    await encoderReady();
    const lossless = quality === "lossless";
    const encoded = await encodeAvif(image, {
      quality: typeof quality === "number" ? quality : lossless ? 100 : DEFAULT_QUALITY,
      lossless,
      speed: ENCODER_SPEED,
    });
    return new Uint8Array(encoded);
  },
};
