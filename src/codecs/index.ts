import { badRequest } from "../errors";
import type { ImageFormat } from "../image/format";
import { avifDecoder, avifEncoder } from "./avif";
import { bmpDecoder, bmpEncoder } from "./bmp";
import { gifDecoder, gifEncoder } from "./gif";
import { heicDecoder } from "./heic";
import { jpegDecoder, jpegEncoder } from "./jpeg";
import { pngDecoder, pngEncoder } from "./png";
import { tiffDecoder } from "./tiff";
import type { Decoder, Encoder, OutputTraits } from "./types";
import { webpDecoder, webpEncoder } from "./webp";

const DECODERS: Partial<Record<ImageFormat, Decoder>> = {
  jpg: jpegDecoder,
  png: pngDecoder,
  webp: webpDecoder,
  avif: avifDecoder,
  heic: heicDecoder,
  bmp: bmpDecoder,
  gif: gifDecoder,
  tiff: tiffDecoder,
};

const ENCODERS: Partial<Record<ImageFormat, Encoder>> = {
  jpg: jpegEncoder,
  png: pngEncoder,
  webp: webpEncoder,
  avif: avifEncoder,
  bmp: bmpEncoder,
  gif: gifEncoder,
};

export function decoderFor(format: ImageFormat): Decoder {
  const decoder = DECODERS[format];
  if (!decoder) throw badRequest(`Processing ${format.toUpperCase()} source images is not supported.`);
  return decoder;
}

export function encoderFor(format: ImageFormat): Encoder | undefined {
  return ENCODERS[format];
}

/** The formats this service can write. */
export function outputFor(format: ImageFormat): OutputTraits | undefined {
  return ENCODERS[format];
}
