import PNG_CODEC from "@jsquash/png/codec/pkg/squoosh_png_bg.wasm";
import { decode as decodePng, init as initPngDecoder } from "@jsquash/png/decode";
import encodePng, { init as initPngEncoder } from "@jsquash/png/encode";
import { asRaster, once, type ScriptDecoder, type ScriptEncoder, wholeBuffer } from "./types";

// The decoder and encoder share one wasm-bindgen module; each entry point keeps its own init guard.
const decoderReady = once(() => initPngDecoder(PNG_CODEC));
const encoderReady = once(() => initPngEncoder(PNG_CODEC));

export const pngDecoder: ScriptDecoder = {
  inEngine: false,
  // 16-bit sources are expanded inside WASM before conversion to 8-bit RGBA.
  bytesPerPixel: 12,
  async decode(bytes) {
    await decoderReady();
    return asRaster(await decodePng(wholeBuffer(bytes)));
  },
};

export const pngEncoder: ScriptEncoder = {
  inEngine: false,
  hasAlpha: true,
  maxSide: 2 ** 31 - 1,
  bytesPerPixel: 8,
  async encode(image) {
    await encoderReady();
    return new Uint8Array(await encodePng(image));
  },
};
