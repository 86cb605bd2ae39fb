// Codecs for the tests, independent of the service's engine wherever they can be: @jsquash's
// mozjpeg, PNG (Rust png crate), libwebp and libavif builds decode what the service writes. JPEG
// fixtures are written by the engine itself (its encoder is tested against mozjpeg's decoder).

import AVIF_DECODER from "@jsquash/avif/codec/dec/avif_dec.wasm";
import AVIF_ENCODER from "@jsquash/avif/codec/enc/avif_enc.wasm";
import decodeAvif, { init as initAvifDecoder } from "@jsquash/avif/decode";
import encodeJsquashAvif, { init as initAvifEncoder } from "@jsquash/avif/encode";
import MOZJPEG_DECODER from "@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm";
import decodeMozjpeg, { init as initMozjpegDecoder } from "@jsquash/jpeg/decode";
import PNG_CODEC from "@jsquash/png/codec/pkg/squoosh_png_bg.wasm";
import { decode as decodeJsquashPng, init as initJsquashPngDecoder } from "@jsquash/png/decode";
import encodeJsquashPng, { init as initJsquashPngEncoder } from "@jsquash/png/encode";
import WEBP_DECODER from "@jsquash/webp/codec/dec/webp_dec.wasm";
import WEBP_ENCODER from "@jsquash/webp/codec/enc/webp_enc_simd.wasm";
import decodeJsquashWebp, { init as initWebpDecoder } from "@jsquash/webp/decode";
import encodeJsquashWebp, { init as initWebpEncoder } from "@jsquash/webp/encode";
import { jpegEncoder } from "../src/codecs/jpeg";
import { asRaster, concatenate, once, wholeBuffer } from "../src/codecs/types";
import { withEngine } from "../src/engine/instance";
import { EngineSession } from "../src/engine/session";
import { rasterOp, resampleOp } from "../src/engine/stages";
import { readHeader } from "../src/image/header";
import type { Raster } from "../src/image/raster";
import { bmpDecoder, bmpEncoder } from "./bmp-reference";
import { decodeGifFrames } from "./gif-reference";

// PNG through @jsquash/png (the Rust png crate): independent of the engine's libpng.
const jsquashPngDecoderReady = once(() => initJsquashPngDecoder(PNG_CODEC));
const jsquashPngEncoderReady = once(() => initJsquashPngEncoder(PNG_CODEC));

export async function decodePngIndependently(bytes: Uint8Array): Promise<Raster> {
  await jsquashPngDecoderReady();
  return asRaster(await decodeJsquashPng(wholeBuffer(bytes)));
}

/** An RGBA PNG of the pixels, written by @jsquash/png. */
export async function encodePngIndependently(image: Raster): Promise<Uint8Array> {
  await jsquashPngEncoderReady();
  return new Uint8Array(await encodeJsquashPng(image));
}

import { animation } from "./webp-container";

let mozjpegReady: Promise<unknown> | undefined;

export async function decodeJpegIndependently(bytes: Uint8Array): Promise<Raster> {
  mozjpegReady ??= initMozjpegDecoder(MOZJPEG_DECODER);
  await mozjpegReady;
  const { width, height, data } = await decodeMozjpeg(bytes.slice().buffer, { preserveOrientation: false });
  return { width, height, data };
}

let avifReady: Promise<unknown> | undefined;

/** libavif with dav1d (@jsquash), independent of the engine's AVIF decoder. */
export async function decodeAvifIndependently(bytes: Uint8Array): Promise<Raster> {
  avifReady ??= initAvifDecoder(AVIF_DECODER);
  await avifReady;
  const image = await decodeAvif(bytes.slice().buffer);
  if (!image) throw new Error("libavif could not decode the AVIF");
  return { width: image.width, height: image.height, data: image.data };
}

const avifEncoderReady = once(() => initAvifEncoder(AVIF_ENCODER));

/** An AVIF source written outside the engine (@jsquash's libavif and libaom), quality 80. */
export async function encodeAvifIndependently(image: Raster): Promise<Uint8Array> {
  await avifEncoderReady();
  return new Uint8Array(await encodeJsquashAvif(image, { quality: 80, speed: 8 }));
}

const header = (bytes: Uint8Array) => readHeader(bytes);

let webpDecoderReady: Promise<unknown> | undefined;
let webpEncoderReady: Promise<unknown> | undefined;

/** libwebp as @jsquash builds it: an independent decoder of the engine's WebP (first frame of an animation). */
export async function decodeWebpIndependently(bytes: Uint8Array): Promise<Raster> {
  webpDecoderReady ??= initWebpDecoder(WEBP_DECODER);
  await webpDecoderReady;
  // @jsquash decodes stills only: an animation's first frame instead (the whole canvas when opaque).
  const still = readHeader(bytes).frames > 1 ? animation(bytes)?.frames[0]?.still : undefined;
  const { width, height, data } = await decodeJsquashWebp((still ?? bytes).slice().buffer);
  return { width, height, data };
}

/** A WebP written outside the engine (@jsquash's libwebp build), for test sources. */
export async function encodeWebpIndependently(
  image: Raster,
  options: { quality?: number; lossless?: boolean } = {},
): Promise<Uint8Array> {
  webpEncoderReady ??= initWebpEncoder(WEBP_ENCODER);
  await webpEncoderReady;
  const encoded = await encodeJsquashWebp(image, {
    quality: options.quality ?? 90,
    lossless: options.lossless ? 1 : 0,
  });
  return new Uint8Array(encoded);
}

/** Decodes any format the service writes, to RGBA at full size, stored orientation. */
export async function decodeAny(bytes: Uint8Array): Promise<Raster> {
  const { format } = header(bytes);
  switch (format) {
    case "jpg":
      return decodeJpegIndependently(bytes);
    case "png":
      return decodePngIndependently(bytes);
    case "webp":
      return decodeWebpIndependently(bytes);
    case "avif":
      return decodeAvifIndependently(bytes);
    case "bmp":
      return bmpDecoder.decode(bytes);
    case "gif": {
      const [first] = decodeGifFrames(bytes, 1);
      return first.image;
    }
    default:
      throw new Error(`no test decoder for ${format}`);
  }
}

/** A JPEG of the pixels, written by the service's engine (baseline, optimised tables) or progressive. */
export function encodeJpeg(image: Raster, quality = 90, progressive = false): Uint8Array {
  const call = withEngine([], (engine) => {
    const session = new EngineSession(engine);
    try {
      const pointer = session.put(
        new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength),
      );
      session.run([
        rasterOp(pointer, image),
        jpegEncoder.op(image, { quality, progressive }, true, header(PLAIN_JPEG), 64 * 1024 * 1024),
      ]);
    } finally {
      session.close();
    }
  });
  return concatenate(call.output);
}

/** Any JPEG header: what the encoder op is told about "the source" (nothing it uses). */
const PLAIN_JPEG = new Uint8Array([
  0xff, 0xd8, 0xff, 0xc0, 0x00, 0x0b, 0x08, 0x00, 0x01, 0x00, 0x01, 0x01, 0x01, 0x11, 0x00, 0xff, 0xda, 0x00,
  0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00, 0xff, 0xd9,
]);

export const encodeOther = {
  png: (image: Raster) => encodePngIndependently(image),
  webp: (image: Raster) => encodeWebpIndependently(image, { quality: 90 }),
  avif: (image: Raster) => encodeAvifIndependently(image),
  bmp: (image: Raster) => bmpEncoder.encode(image, { progressive: false }),
};

/** Lanczos3 resampling of a whole raster by the engine: the reference the shrink-on-load tests use. */
export function resampleWithEngine(
  image: Raster,
  size: { width: number; height: number },
  premultiply: boolean,
): Raster {
  const call = withEngine([], (engine) => {
    const session = new EngineSession(engine);
    try {
      const pointer = session.put(
        new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength),
      );
      const raster = session.capture([rasterOp(pointer, image), resampleOp(image, size, premultiply)], size);
      return session.pixels(raster);
    } finally {
      session.close();
    }
  });
  return { ...size, data: call.result };
}
