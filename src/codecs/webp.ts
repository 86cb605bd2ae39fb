import WEBP_DECODER from "@jsquash/webp/codec/dec/webp_dec.wasm";
import WEBP_ENCODER from "@jsquash/webp/codec/enc/webp_enc_simd.wasm";
import decodeWebp, { init as initWebpDecoder } from "@jsquash/webp/decode";
import encodeWebp, { init as initWebpEncoder } from "@jsquash/webp/encode";
import { asRaster, once, type ScriptDecoder, type ScriptEncoder, wholeBuffer } from "./types";

const decoderReady = once(() => initWebpDecoder(WEBP_DECODER));
// workerd supports WASM SIMD, so @jsquash/webp picks its SIMD build; it must get that module.
const encoderReady = once(async () => {
  await initWebpEncoder(WEBP_ENCODER);
});

export const webpDecoder: ScriptDecoder = {
  inEngine: false,
  bytesPerPixel: 10,
  async decode(bytes) {
    await decoderReady();
    return asRaster(await decodeWebp(wholeBuffer(bytes)));
  },
};

const DEFAULT_QUALITY = 85;

export const webpEncoder: ScriptEncoder = {
  inEngine: false,
  hasAlpha: true,
  maxSide: 16383,
  bytesPerPixel: 10,
  async encode(image, { quality }) {
    await encoderReady();
    const lossless = quality === "lossless";
    const encoded = await encodeWebp(image, {
      quality: typeof quality === "number" ? quality : lossless ? 100 : DEFAULT_QUALITY,
      lossless: lossless ? 1 : 0,
    });
    return new Uint8Array(encoded);
  },
};
