import type { Op } from "../engine/ops";
import type { ImageHeader } from "../image/header";
import type { Raster, Rect, Size } from "../image/raster";

/** What to decode: a region of the stored (not yet oriented) image, delivered at a size. */
export interface DecodeRequest {
  readonly region: Rect;
  readonly size: Size;
  /** Frames to push: 1 (the first) unless an animation stays animated (then the header's count). */
  readonly frames?: number;
}

/** The whole stored image at full size. */
export const wholeImage = (header: ImageHeader): DecodeRequest => ({
  region: { x: 0, y: 0, width: header.width, height: header.height },
  size: { width: header.width, height: header.height },
});

/**
 * A format the engine decodes: its ops push `request.size` pixels of `request.region` (the
 * decoder itself, then whatever crop and resampling it cannot do while decoding).
 */
export interface EngineDecoder {
  readonly inEngine: true;
  ops(header: ImageHeader, request: DecodeRequest, source: number): readonly Op[];
}

/**
 * A format still decoded outside the engine (to whole RGBA frames in JavaScript), whose pixels the
 * engine then takes: counted at `bytesPerPixel` of the source frame, JavaScript's copy included.
 */
export interface ScriptDecoder {
  readonly inEngine: false;
  readonly bytesPerPixel: number;
  decode(bytes: Uint8Array, header: ImageHeader): Promise<Raster>;
}

export type Decoder = EngineDecoder | ScriptDecoder;

export interface EncodeOptions {
  /** 1..100, or lossless (WebP, AVIF); undefined means the encoder's default. */
  readonly quality?: number | "lossless";
  readonly progressive: boolean;
  /** Frames the encoder receives: more than 1 for an animation (GIF, WebP). */
  readonly frames?: number;
  /** The ops of the run before the encoder: what an encoder may infer of the pixels (PNG's colour type). */
  readonly upstream?: readonly Op[];
}

/** What planning needs to know of an output format. */
export interface OutputTraits {
  readonly hasAlpha: boolean;
  /** Largest side the format can store. */
  readonly maxSide: number;
}

/** A format the engine writes: its op is the sink of the run. Every encoder is one. */
export interface EngineEncoder extends OutputTraits {
  /** `hasAlpha`: the pixels may have transparency; `source`: the source image's header. */
  op(size: Size, options: EncodeOptions, hasAlpha: boolean, source: ImageHeader, budgetBytes: number): Op;
}

export type Encoder = EngineEncoder;

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
