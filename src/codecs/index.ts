import { badRequest, OssError } from "../errors";
import type { ImageFormat } from "../image/format";
import type { ImageHeader } from "../image/header";
import type { Raster } from "../image/raster";
import { avifDecoder, avifEncoder } from "./avif";
import { bmpDecoder, bmpEncoder } from "./bmp";
import { gifDecoder, gifOutput } from "./gif";
import { jpegDecoder, jpegEncoder } from "./jpeg";
import { pngDecoder, pngEncoder } from "./png";
import type { DecodeRequest, Decoder, Encoder, OutputTraits } from "./types";
import { webpDecoder, webpEncoder } from "./webp";

const DECODERS: Partial<Record<ImageFormat, Decoder>> = {
  jpg: jpegDecoder,
  png: pngDecoder,
  webp: webpDecoder,
  avif: avifDecoder,
  bmp: bmpDecoder,
  gif: gifDecoder,
};

const ENCODERS: Partial<Record<ImageFormat, Encoder>> = {
  jpg: jpegEncoder,
  png: pngEncoder,
  webp: webpEncoder,
  avif: avifEncoder,
  bmp: bmpEncoder,
};

export function decoderFor(format: ImageFormat): Decoder {
  const decoder = DECODERS[format];
  if (!decoder) throw badRequest(`Processing ${format.toUpperCase()} source images is not supported.`);
  return decoder;
}

export function encoderFor(format: ImageFormat): Encoder | undefined {
  return ENCODERS[format];
}

/** The formats this service can write, still encoders and GIF's frame writer alike. */
export function outputFor(format: ImageFormat): OutputTraits | undefined {
  return format === "gif" ? gifOutput : ENCODERS[format];
}

/** Decodes, turning any codec failure into the OSS answer for a damaged image. */
export async function decodeImage(
  bytes: Uint8Array,
  header: ImageHeader,
  request: DecodeRequest,
): Promise<Raster> {
  try {
    return await decoderFor(header.format).decode(bytes, header, request);
  } catch (error) {
    if (error instanceof OssError) throw error;
    throw badRequest(
      `The image file may be damaged: the ${header.format} decoder failed (${describe(error)}).`,
    );
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === "string" ? error : "unreadable data";
}
