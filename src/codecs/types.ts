import type { ImageHeader } from "../image/header";
import type { Raster, Size } from "../image/raster";

export interface Decoder {
  /**
   * The size `decode` will return for a requested scale. Decoders that cannot scale while decoding
   * return the full size, so the memory plan stays honest whatever the planner asked for.
   */
  decodedSize(header: ImageHeader, scale: number): Size;
  /** Peak bytes held per decoded pixel, counting WASM memory (which never shrinks) and the JS copy. */
  bytesPerPixel(header: ImageHeader): number;
  decode(bytes: Uint8Array, header: ImageHeader, scale: number): Promise<Raster>;
}

export interface EncodeOptions {
  /** 1..100, or lossless (WebP, AVIF); undefined means the encoder's default. */
  readonly quality?: number | "lossless";
  readonly progressive: boolean;
}

/** What planning needs to know of an output format. */
export interface OutputTraits {
  readonly hasAlpha: boolean;
  /** Largest side the format can store. */
  readonly maxSide: number;
  /** Bytes held per output pixel (per frame) while encoding. */
  readonly bytesPerPixel: number;
}

/** Encodes a still image. GIF output is written frame by frame instead (see codecs/gif.ts). */
export interface Encoder extends OutputTraits {
  encode(image: Raster, options: EncodeOptions): Promise<Uint8Array>;
}

/** Starts an asynchronous initialisation on first use and shares it afterwards. */
export function once<T>(start: () => Promise<T>): () => Promise<T> {
  let started: Promise<T> | undefined;
  return () => {
    started ??= start().catch((error) => {
      started = undefined;
      throw error;
    });
    return started;
  };
}

/** Full size: for decoders that cannot shrink on load. */
export const fullSize = (header: ImageHeader): Size => ({ width: header.width, height: header.height });

export function asRaster(image: {
  width: number;
  height: number;
  data: Uint8ClampedArray | Uint8Array;
}): Raster {
  const data =
    image.data instanceof Uint8ClampedArray
      ? image.data
      : new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  return { width: image.width, height: image.height, data };
}

/** The bytes as a whole ArrayBuffer for codecs that take one, copying only when they are a slice. */
export function wholeBuffer(bytes: Uint8Array): ArrayBuffer {
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  return (whole ? bytes.buffer : bytes.slice().buffer) as ArrayBuffer;
}
