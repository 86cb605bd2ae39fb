import type { ImageHeader } from "../image/header";
import type { Raster, Rect, Size } from "../image/raster";

/** What to decode: a region of the stored (not yet oriented) image, delivered at a size. */
export interface DecodeRequest {
  readonly region: Rect;
  readonly size: Size;
}

/** The whole stored image at full size: what decoders that cannot do better always decode. */
export const wholeImage = (header: ImageHeader): DecodeRequest => ({
  region: { x: 0, y: 0, width: header.width, height: header.height },
  size: { width: header.width, height: header.height },
});

export interface Decoder {
  /**
   * True when `decode` honours the request (the JPEG engine decodes only the region, scaled
   * down in the DCT and resampled to the size as rows stream out). Other decoders return the
   * whole image at full size, and the pipeline crops and resizes after them.
   */
  readonly decodesRegions: boolean;
  /**
   * Peak bytes the decode holds, the returned RGBA image included, counting WASM memory (which
   * never shrinks) and any copy of the source it makes.
   */
  memoryBytes(header: ImageHeader, request: DecodeRequest, sourceBytes: number): number;
  decode(bytes: Uint8Array, header: ImageHeader, request: DecodeRequest): Promise<Raster>;
}

/**
 * The memory of a decoder that copies the source into its WASM heap and decodes the full frame:
 * `bytesPerPixel` of the full image (heap and JS copy, as measured for that codec).
 */
export function fullFrameBytes(bytesPerPixel: number): Decoder["memoryBytes"] {
  return (header, _request, sourceBytes) => sourceBytes + bytesPerPixel * header.width * header.height;
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

/** The chunks one after another in one array. */
export function concatenate(chunks: readonly Uint8Array[]): Uint8Array {
  const joined = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.length;
  }
  return joined;
}

/** The bytes as a whole ArrayBuffer for codecs that take one, copying only when they are a slice. */
export function wholeBuffer(bytes: Uint8Array): ArrayBuffer {
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  return (whole ? bytes.buffer : bytes.slice().buffer) as ArrayBuffer;
}
