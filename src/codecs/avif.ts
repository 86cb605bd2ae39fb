import AVIF_DECODER from "@jsquash/avif/codec/dec/avif_dec.wasm";
import AVIF_ENCODER from "@jsquash/avif/codec/enc/avif_enc.wasm";
import decodeAvif, { init as initAvifDecoder } from "@jsquash/avif/decode";
import encodeAvif, { init as initAvifEncoder } from "@jsquash/avif/encode";
import { asRaster, once, type ScriptDecoder, type ScriptEncoder, wholeBuffer } from "./types";

const decoderReady = once(() => initAvifDecoder(AVIF_DECODER));
const encoderReady = once(async () => {
  await initAvifEncoder(AVIF_ENCODER);
});

export const avifDecoder: ScriptDecoder = {
  inEngine: false,
  // dav1d keeps YUV planes and reference frames beside the RGBA result.
  bytesPerPixel: 14,
  async decode(bytes) {
    await decoderReady();
    const image = await decodeAvif(wholeBuffer(bytes));
    if (!image) throw new Error("AVIF decoder returned nothing");
    return asRaster(image);
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
