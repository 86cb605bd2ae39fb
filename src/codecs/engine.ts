import ENGINE_MODULE from "../../wasm/engine.wasm";
import { imageTooLarge } from "../errors";
import type { Raster, Rect, Size } from "../image/raster";
import { concatenate } from "./types";

/**
 * The codec engine (wasm/, built by wasm/build.sh): libjpeg-turbo plus a streaming resampler in
 * one WebAssembly instance whose heap every request reuses. Calls are synchronous, so requests
 * interleaved by the isolate never share it mid-call. Every failure inside the engine is a trap
 * (wasm/src/fail.h); the instance is then dropped and the next call starts a fresh one.
 */
interface EngineExports {
  readonly memory: WebAssembly.Memory;
  _initialize(): void;
  engine_malloc(size: number): number;
  engine_free(pointer: number): void;
  engine_failure_code(): number;
  engine_failure_message(): number;
  decode_jpeg(
    scaleDenominator: number,
    x: number,
    y: number,
    width: number,
    height: number,
    outWidth: number,
    outHeight: number,
  ): number;
  resize_begin(
    inWidth: number,
    inHeight: number,
    x: number,
    y: number,
    width: number,
    height: number,
    outWidth: number,
    outHeight: number,
    premultiply: number,
  ): number;
  resize_first_row(resizer: number): number;
  resize_end_row(resizer: number): number;
  resize_push(resizer: number, y: number, rows: number, count: number, inWidth: number): void;
  resize_finish(resizer: number): number;
  encode_jpeg(rgba: number, width: number, height: number, quality: number, progressive: number): void;
}

/** Failure codes of wasm/src/fail.h; libjpeg's message codes are positive. */
const FAIL_OUT_OF_MEMORY = -1;

/** The bytes a call reads through `read_source` and the chunks it writes through `write_output`. */
interface Streams {
  source: Uint8Array;
  sourceOffset: number;
  output: Uint8Array[];
}

class EngineInstance {
  readonly exports: EngineExports;
  private readonly streams: Streams = { source: new Uint8Array(0), sourceOffset: 0, output: [] };

  constructor() {
    const streams = this.streams;
    const heap = () => new Uint8Array(this.exports.memory.buffer);
    const instance = new WebAssembly.Instance(ENGINE_MODULE, {
      env: {
        read_source(target: number, length: number) {
          const { source, sourceOffset } = streams;
          const count = Math.min(length, source.length - sourceOffset);
          heap().set(source.subarray(sourceOffset, sourceOffset + count), target);
          streams.sourceOffset += count;
          return count;
        },
        skip_source(length: number) {
          streams.sourceOffset = Math.min(streams.source.length, streams.sourceOffset + length);
        },
        write_output(bytes: number, length: number) {
          streams.output.push(heap().slice(bytes, bytes + length));
        },
        emscripten_notify_memory_growth() {},
      },
      // libc's stdio and getenv, linked in by libjpeg but never reached with data that matters.
      wasi_snapshot_preview1: {
        environ_sizes_get: (count: number, size: number) => {
          const view = new DataView(this.exports.memory.buffer);
          view.setUint32(count, 0, true);
          view.setUint32(size, 0, true);
          return 0;
        },
        environ_get: () => 0,
        fd_write: () => 0,
        fd_seek: () => 0,
        fd_close: () => 0,
        proc_exit: () => {
          throw new Error("the codec engine exited");
        },
      },
    });
    this.exports = instance.exports as unknown as EngineExports;
    this.exports._initialize();
  }

  heap(): Uint8Array {
    return new Uint8Array(this.exports.memory.buffer);
  }

  /** Runs `work` with `source` behind read_source; returns its result and what it wrote. */
  stream<T>(source: Uint8Array, work: () => T): { result: T; output: Uint8Array[] } {
    Object.assign(this.streams, { source, sourceOffset: 0, output: [] });
    try {
      const result = work();
      return { result, output: this.streams.output };
    } finally {
      Object.assign(this.streams, { source: new Uint8Array(0), output: [] });
    }
  }

  /** Copies `length` bytes at `pointer` out of the heap and frees them. */
  take(pointer: number, length: number): Uint8Array {
    const bytes = this.heap().slice(pointer, pointer + length);
    this.exports.engine_free(pointer);
    return bytes;
  }

  failure(trap: unknown): Error {
    const code = this.exports.engine_failure_code();
    const heap = this.heap();
    const start = this.exports.engine_failure_message();
    const message = new TextDecoder().decode(heap.subarray(start, heap.indexOf(0, start)));
    if (code === FAIL_OUT_OF_MEMORY) {
      return imageTooLarge(`The codec engine ran out of memory (${message}).`);
    }
    return new EngineFailure(code === 0 ? String(trap) : message);
  }
}

/** A failure inside the engine other than running out of memory: damaged data or a bad call. */
class EngineFailure extends Error {}

let current: EngineInstance | undefined;
let instancesStarted = 0;

function withEngine<T>(work: (engine: EngineInstance) => T): T {
  if (!current) {
    current = new EngineInstance();
    instancesStarted++;
  }
  const engine = current;
  try {
    return work(engine);
  } catch (error) {
    if (!(error instanceof WebAssembly.RuntimeError)) throw error;
    // The trap left the heap with half-built state: the next call gets a new instance.
    current = undefined;
    throw engine.failure(error);
  }
}

/** For tests and the benchmark: how large the engine's heap has grown, and how often it restarted. */
export function engineStatus(): { heapBytes: number; instancesStarted: number } {
  return { heapBytes: current?.exports.memory.buffer.byteLength ?? 0, instancesStarted };
}

const rgba = (pixels: Uint8Array): Uint8ClampedArray =>
  new Uint8ClampedArray(pixels.buffer, pixels.byteOffset, pixels.byteLength);

/**
 * Decodes `region` of a JPEG (stored pixels) at DCT scale 1/`scaleDenominator` and resamples it
 * to `size` while the rows stream out of the decoder.
 */
export function decodeJpegRegion(
  jpeg: Uint8Array,
  scaleDenominator: number,
  region: Rect,
  size: Size,
): Raster {
  return withEngine((engine) => {
    const { result: pointer } = engine.stream(jpeg, () =>
      engine.exports.decode_jpeg(
        scaleDenominator,
        region.x,
        region.y,
        region.width,
        region.height,
        size.width,
        size.height,
      ),
    );
    return { ...size, data: rgba(engine.take(pointer, size.width * size.height * 4)) };
  });
}

/** Input rows copied into the heap per call: enough to amortise the call, little memory. */
const STRIP_BYTES = 1 << 20;

/** Lanczos3 resampling of a whole image, streamed through the heap in strips of rows. */
export function resizeRaster(image: Raster, size: Size, premultiply: boolean): Raster {
  return withEngine((engine) => {
    const { exports } = engine;
    const { width, height } = image;
    const resizer = exports.resize_begin(
      width,
      height,
      0,
      0,
      width,
      height,
      size.width,
      size.height,
      premultiply ? 1 : 0,
    );
    const first = exports.resize_first_row(resizer);
    const end = exports.resize_end_row(resizer);
    const rowBytes = width * 4;
    const stripRows = Math.max(1, Math.min(end - first, Math.floor(STRIP_BYTES / rowBytes)));
    const strip = exports.engine_malloc(stripRows * rowBytes);
    for (let y = first; y < end; y += stripRows) {
      const count = Math.min(stripRows, end - y);
      engine.heap().set(image.data.subarray(y * rowBytes, (y + count) * rowBytes), strip);
      exports.resize_push(resizer, y, strip, count, width);
    }
    exports.engine_free(strip);
    const pointer = exports.resize_finish(resizer);
    return { ...size, data: rgba(engine.take(pointer, size.width * size.height * 4)) };
  });
}

/** Baseline or progressive JPEG with optimised Huffman tables; alpha is flattened onto white. */
export function encodeJpeg(image: Raster, quality: number, progressive: boolean): Uint8Array {
  return withEngine((engine) => {
    const { exports } = engine;
    const pixels = exports.engine_malloc(image.data.length);
    engine.heap().set(image.data, pixels);
    const { output } = engine.stream(new Uint8Array(0), () =>
      exports.encode_jpeg(pixels, image.width, image.height, quality, progressive ? 1 : 0),
    );
    exports.engine_free(pixels);
    return concatenate(output);
  });
}
