import ENGINE_MODULE from "../../wasm/engine.wasm";
import { badRequest, imageTooLarge } from "../errors";

/**
 * The codec engine (wasm/, built by wasm/build.sh): every codec and pixel step in one WebAssembly
 * module over one memory. The memory is created here with a fixed ceiling, so the isolate's
 * WebAssembly memory can never pass it whatever requests do, and the same memory serves every
 * instance: a failed call (a trap: damaged data, out of memory) leaves half-built state behind, so
 * the memory is zeroed and the module instantiated afresh over it.
 *
 * Calls are synchronous: requests interleaved by the isolate never share the engine mid-call.
 */

/** The ceiling: 96 MiB of the isolate's 128 MiB, the rest left to JavaScript. */
export const ENGINE_MEMORY_BYTES = 96 * 1024 * 1024;
const PAGE = 65536;
/** What the engine's module asks for at least (wasm/build.sh: INITIAL_MEMORY). */
const INITIAL_PAGES = 64;

interface EngineExports {
  _initialize(): void;
  engine_failure_code(): number;
  engine_failure_message(): number;
  engine_malloc(size: number): number;
  engine_free(pointer: number): void;
  engine_live_bytes(): number;
  engine_peak_bytes(): number;
  engine_reset_peak(): void;
  pipeline_run(ops: number, count: number): number;
  pipeline_result_value(index: number): number;
  pipeline_stage_ms(index: number): number;
  rotate_ring_rows(inHeight: number, outWidth: number, degrees: number): number;
  mark_text(
    coverage: number,
    width: number,
    height: number,
    r: number,
    g: number,
    b: number,
    shadow: number,
    offset: number,
  ): number;
  mark_beside(
    first: number,
    firstWidth: number,
    firstHeight: number,
    second: number,
    secondWidth: number,
    secondHeight: number,
    interval: number,
    align: number,
  ): number;
  mark_opacity(mark: number, width: number, height: number, opacity: number): void;
}

/** Failure codes of wasm/src/engine.h; libraries' own message codes are positive. */
const FAIL_OUT_OF_MEMORY = -1;
const FAIL_BAD_ARGUMENT = -2;
const FAIL_DAMAGED = -3;
const FAIL_UNSUPPORTED = -4;

/** A failure of the engine that is not the request's fault: a bug, reported as an internal error. */
export class EngineBug extends Error {
  override name = "EngineBug";
}

const memory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: ENGINE_MEMORY_BYTES / PAGE });

/** The byte sources a call reads (`source_read`), and the chunks it writes (`output_write`). */
interface Streams {
  sources: Uint8Array[];
  output: Uint8Array[];
  warnings: string[];
}

const streams: Streams = { sources: [], output: [], warnings: [] };

const heap = () => new Uint8Array(memory.buffer);

function cString(pointer: number): string {
  const bytes = heap();
  return new TextDecoder().decode(bytes.subarray(pointer, bytes.indexOf(0, pointer)));
}

function instantiate(): EngineExports {
  const instance = new WebAssembly.Instance(ENGINE_MODULE, {
    env: {
      memory,
      source_read(source: number, offset: number, target: number, length: number) {
        const bytes = streams.sources[source];
        if (!bytes || offset >= bytes.length) return 0;
        const count = Math.min(length, bytes.length - offset);
        heap().set(bytes.subarray(offset, offset + count), target);
        return count;
      },
      source_size: (source: number) => streams.sources[source]?.length ?? 0,
      output_write(bytes: number, length: number) {
        streams.output.push(heap().slice(bytes, bytes + length));
      },
      engine_warn(message: number) {
        streams.warnings.push(cString(message));
      },
      engine_now: () => performance.now(),
      emscripten_notify_memory_growth() {},
      // Little CMS's profile files, which the engine never opens.
      __syscall_unlink: () => -1,
      __syscall_rmdir: () => -1,
      // setjmp/longjmp through WebAssembly exceptions (libpng, libtiff, aom) keeps this pair.
      setTempRet0(value: number) {
        tempRet0 = value;
      },
      getTempRet0: () => tempRet0,
    },
    // libc's stdio and getenv, linked in by the libraries but never reached with data that matters.
    wasi_snapshot_preview1: {
      environ_sizes_get(count: number, size: number) {
        const view = new DataView(memory.buffer);
        view.setUint32(count, 0, true);
        view.setUint32(size, 0, true);
        return 0;
      },
      environ_get: () => 0,
      fd_write: () => 0,
      fd_seek: () => 0,
      fd_close: () => 0,
      fd_read: () => 0,
      // Little CMS dates the profiles it makes; a fixed clock keeps the engine deterministic.
      clock_time_get(_clock: number, _precision: bigint, time: number) {
        new DataView(memory.buffer).setBigUint64(time, 0n, true);
        return 0;
      },
      proc_exit() {
        throw new EngineBug("the codec engine exited");
      },
    },
  });
  const exports = instance.exports as unknown as EngineExports;
  exports._initialize();
  return exports;
}

let tempRet0 = 0;
let current: EngineExports | undefined;
let instancesStarted = 0;

/** After a trap: the state the failed call left is wiped, and the next call gets a new instance. */
function discard(): void {
  current = undefined;
  heap().fill(0);
}

function failure(exports: EngineExports, trap: unknown): Error {
  const code = exports.engine_failure_code();
  const message = cString(exports.engine_failure_message());
  if (code === FAIL_OUT_OF_MEMORY) {
    return imageTooLarge(`The codec engine ran out of memory (${message}).`);
  }
  if (code === FAIL_BAD_ARGUMENT) return new EngineBug(`The codec engine was called wrongly: ${message}`);
  if (code === FAIL_UNSUPPORTED) return badRequest(`This image cannot be processed: ${message}.`);
  if (code === 0) return new EngineBug(`The codec engine failed: ${String(trap)}`);
  // FAIL_DAMAGED and the libraries' own codes: the data could not be decoded.
  void FAIL_DAMAGED;
  return badRequest(`The image file may be damaged: ${message}.`);
}

/** What one call of the engine gets back besides its result: the bytes it wrote, its warnings. */
export interface EngineCall<T> {
  readonly result: T;
  readonly output: readonly Uint8Array[];
  readonly warnings: readonly string[];
}

/**
 * Runs `work` on the engine with `sources` readable (source 0, 1, …). Any trap becomes an OSS
 * error (ImageTooLarge for memory, BadRequest for damaged data) or an EngineBug, and the next call
 * starts a fresh instance.
 */
export function withEngine<T>(sources: readonly Uint8Array[], work: (engine: Engine) => T): EngineCall<T> {
  const readable = [...sources];
  if (!current) {
    current = instantiate();
    instancesStarted++;
  }
  const exports = current;
  Object.assign(streams, { sources: readable, output: [], warnings: [] });
  try {
    const result = work(new Engine(exports));
    return { result, output: streams.output, warnings: streams.warnings };
  } catch (error) {
    if (!(error instanceof WebAssembly.RuntimeError)) throw error;
    const reason = failure(exports, error);
    discard();
    throw reason;
  } finally {
    Object.assign(streams, { sources: [], output: [], warnings: [] });
  }
}

/** The engine's exports with helpers for moving bytes in and out of its memory. */
export class Engine {
  constructor(readonly exports: EngineExports) {}

  /** Copies bytes into freshly allocated engine memory; the caller frees it. */
  put(bytes: Uint8Array | Float64Array): number {
    const raw = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const pointer = this.exports.engine_malloc(Math.max(1, raw.length));
    heap().set(raw, pointer);
    return pointer;
  }

  /** A copy of `length` bytes at `pointer`. */
  read(pointer: number, length: number): Uint8Array {
    return heap().slice(pointer, pointer + length);
  }

  free(pointer: number): void {
    if (pointer) this.exports.engine_free(pointer);
  }

  /** Makes more bytes readable for the rest of the call (a watermark image): their source number. */
  addSource(bytes: Uint8Array): number {
    return streams.sources.push(bytes) - 1;
  }
}

/** The engine's memory, for Server-Timing, tests and the benchmark. */
export function engineStatus(): {
  memoryBytes: number;
  liveBytes: number;
  peakBytes: number;
  instancesStarted: number;
} {
  return {
    memoryBytes: memory.buffer.byteLength,
    liveBytes: current?.engine_live_bytes() ?? 0,
    peakBytes: current?.engine_peak_bytes() ?? 0,
    instancesStarted,
  };
}

/** The isolate's WebAssembly memory (the engine's is the only one) in MiB, for Server-Timing. */
export const engineMemoryMiB = () => (memory.buffer.byteLength / (1024 * 1024)).toFixed(1);

/** Starts measuring the engine's high-water mark afresh (tests compare it with plans). */
export function resetEnginePeak(): void {
  current?.engine_reset_peak();
}
