import MOZJPEG_DECODER from "@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm";
import MOZJPEG_ENCODER from "@jsquash/jpeg/codec/enc/mozjpeg_enc.wasm";
import decodeMozjpeg, { init as initMozjpegDecoder } from "@jsquash/jpeg/decode";
import encodeMozjpeg, { init as initMozjpegEncoder } from "@jsquash/jpeg/encode";
import jpegJs from "jpeg-js";
import type { ImageHeader } from "../image/header";
import { createRaster, drawOver, type Raster, WHITE } from "../image/raster";
import { asRaster, type Decoder, type Encoder, fullSize, once, wholeBuffer } from "./types";

const decoderReady = once(() => initMozjpegDecoder(MOZJPEG_DECODER));
const encoderReady = once(async () => {
  await initMozjpegEncoder(MOZJPEG_ENCODER);
});

const isCmyk = (header: ImageHeader) => header.jpegComponents === 4;

/**
 * mozjpeg (WASM) decodes greyscale and YCbCr JPEGs at full size. It cannot convert CMYK/YCCK to RGB,
 * so those go through jpeg-js, which applies the Adobe transform and inversion correctly.
 */
export const jpegDecoder: Decoder = {
  decodedSize: fullSize,
  // mozjpeg's heap holds the RGBA output (grown by emscripten in 20% steps) and JS gets a copy:
  // measured 42 MiB of WASM heap for an 8-megapixel decode, plus the 32 MiB copy.
  bytesPerPixel: (header) => (isCmyk(header) ? 16 : 9),
  async decode(bytes, header) {
    if (isCmyk(header)) {
      const image = jpegJs.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 });
      return asRaster(image);
    }
    await decoderReady();
    return asRaster(await decodeMozjpeg(wholeBuffer(bytes), { preserveOrientation: false }));
  },
};

const DEFAULT_QUALITY = 85;

export const jpegEncoder: Encoder = {
  hasAlpha: false,
  maxSide: 65535,
  bytesPerPixel: 8,
  async encode(image, { quality, progressive }) {
    await encoderReady();
    const opaque = flattenOnWhite(image);
    const encoded = await encodeMozjpeg(opaque, {
      quality: typeof quality === "number" ? quality : quality === "lossless" ? 100 : DEFAULT_QUALITY,
      progressive,
      optimize_coding: true,
      // Annex K tables, the ones libjpeg and OSS use, so that `quality` means what users expect.
      quant_table: 0,
    });
    return new Uint8Array(encoded);
  },
};

/** JPEG has no alpha: transparent areas become white, as OSS does. */
function flattenOnWhite(image: Raster): Raster {
  const data = image.data;
  let opaque = true;
  for (let i = 3; i < data.length && opaque; i += 4) opaque = data[i] === 255;
  if (opaque) return image;
  const canvas = createRaster(image.width, image.height, WHITE);
  drawOver(canvas, image, 0, 0);
  return canvas;
}
