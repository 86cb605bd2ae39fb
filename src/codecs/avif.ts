import { OP, op } from "../engine/ops";
import { imageTooLarge } from "../errors";
import type { HeifImageLayout } from "../image/heif";
import type { Size } from "../image/raster";
import { expectCodec, heifDecodeOp, heifDecoderBytes, heifOps } from "./heif";
import type { EngineDecoder, EngineEncoder } from "./types";

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
/**
 * libaom's speed (cpu-used) for all-intra coding, 0 (slowest) to 9. Measured on the test photo at
 * 1 and 3.6 MP, quality 60: speed 7 takes three times as long for 20-25% fewer bytes, speed 9 is
 * no faster than 8 and writes 50% more bytes.
 */
const ENCODER_SPEED = 8;

/**
 * The OSS quality (1..100) on AV1's quantizer scale (0..63), linearly as libavif maps its
 * quality: 100 is quantizer 0, where AV1 codes the YUV picture losslessly.
 */
export const avifQuantizer = (quality: number) => Math.round(((100 - quality) * 63) / 100);

/**
 * What the encoder holds (wasm/src/codecs/avif_encode.c), measured against the engine's
 * high-water mark (test/formats-avif-encode.test.ts): the YUV 4:2:0 picture (1.5 bytes a pixel)
 * and the alpha plane (1; its own encode comes after the colour one is freed, and holds less),
 * and libaom's state while it codes the colour picture: the whole frame's coefficients, 6 bytes a
 * pixel of the frame rounded up to 128-pixel superblocks, and about 14 bytes a pixel besides (an
 * output buffer of twice the uncompressed picture, its copy of the source and the reconstruction
 * with their borders, per-block mode info). Its entropy coder's buffers grow by doubling with the
 * coded size, up to six times it: counted from the quantizer, generously for photographs (a
 * lossless YUV 4:2:0 photo codes to about a byte a pixel).
 */
const AVIF_FIXED_BYTES = 2 * 1024 * 1024;
const SUPERBLOCK = 128;
const COEFFICIENT_BYTES_PER_PIXEL = 6;
const AOM_BYTES_PER_PIXEL = 14;
const PICTURE_BYTES_PER_PIXEL = 1.5;
const ALPHA_BYTES_PER_PIXEL = 1;
const CODER_BUFFERS_PER_CODED_BYTE = 6;
const codedBytesPerPixel = (quantizer: number) =>
  quantizer === 0 ? 1 : quantizer <= 6 ? 0.35 : quantizer <= 16 ? 0.15 : 0.05;

export function avifEncoderBytes(size: Size, hasAlpha: boolean, quantizer: number): number {
  const pixels = size.width * size.height;
  const superblocks = (side: number) => Math.ceil(side / SUPERBLOCK) * SUPERBLOCK;
  const perPixel =
    PICTURE_BYTES_PER_PIXEL +
    (hasAlpha ? ALPHA_BYTES_PER_PIXEL : 0) +
    AOM_BYTES_PER_PIXEL +
    CODER_BUFFERS_PER_CODED_BYTE * codedBytesPerPixel(quantizer);
  const coefficients = COEFFICIENT_BYTES_PER_PIXEL * superblocks(size.width) * superblocks(size.height);
  return AVIF_FIXED_BYTES + coefficients + perPixel * pixels;
}

/** The largest output of this shape whose encoder fits in `budgetBytes` (to within 1%). */
function largestFitting(size: Size, hasAlpha: boolean, quantizer: number, budgetBytes: number): Size {
  for (let scale = 1; scale > 0; scale -= 0.01) {
    const fits = { width: Math.floor(size.width * scale), height: Math.floor(size.height * scale) };
    if (avifEncoderBytes(fits, hasAlpha, quantizer) <= budgetBytes) return fits;
  }
  return { width: 0, height: 0 };
}

const MiB = 1024 * 1024;

/**
 * AVIF output from the engine: libaom codes the picture as one all-intra AV1 still frame at the
 * quality (default 60; `lossless` is quality 100, quantizer 0: lossless in YUV 4:2:0, not in
 * RGB), with an alpha item when the pixels may be transparent and some are. An output whose
 * encoder would not fit the budget is refused before anything is decoded.
 */
export const avifEncoder: EngineEncoder = {
  hasAlpha: true,
  maxSide: 65536,
  op(size, { quality }, hasAlpha, _source, budgetBytes) {
    const level = quality === "lossless" ? 100 : typeof quality === "number" ? quality : DEFAULT_QUALITY;
    const quantizer = avifQuantizer(level);
    const bytes = avifEncoderBytes(size, hasAlpha, quantizer);
    if (bytes > budgetBytes) {
      const fits = largestFitting(size, hasAlpha, quantizer, budgetBytes);
      throw imageTooLarge(
        `Encoding a ${size.width}x${size.height} AVIF needs about ${Math.ceil(bytes / MiB)} MiB; this service allows ${Math.ceil(budgetBytes / MiB)} MiB per request, which holds an AVIF of about ${fits.width}x${fits.height} (${((fits.width * fits.height) / 1e6).toFixed(1)} MP) at most.`,
      );
    }
    return op(
      OP.ENCODE_AVIF,
      "encode",
      bytes,
      size.width,
      size.height,
      quantizer,
      hasAlpha ? 1 : 0,
      ENCODER_SPEED,
    );
  },
};
