// Where the time goes: the codec engine (wasm/engine.wasm) run in this Node process, on V8 like
// workerd, stage by stage for the benchmark's request (`resize,w_200/interlace,1`). The Worker's
// own glue is src/codecs/engine.ts (TypeScript, bundled by wrangler); this is the least needed to
// call the same exports from Node, with the same streaming imports.
import { readFileSync } from "node:fs";

const ENGINE = new URL("../wasm/engine.wasm", import.meta.url);

function instantiate() {
  const streams = { source: new Uint8Array(0), offset: 0, output: [] };
  let memory;
  const heap = () => new Uint8Array(memory.buffer);
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(ENGINE)), {
    env: {
      read_source(target, length) {
        const count = Math.min(length, streams.source.length - streams.offset);
        heap().set(streams.source.subarray(streams.offset, streams.offset + count), target);
        streams.offset += count;
        return count;
      },
      skip_source(length) {
        streams.offset = Math.min(streams.source.length, streams.offset + length);
      },
      write_output(bytes, length) {
        streams.output.push(heap().slice(bytes, bytes + length));
      },
      emscripten_notify_memory_growth() {},
    },
    wasi_snapshot_preview1: {
      environ_sizes_get: () => 0,
      environ_get: () => 0,
      fd_write: () => 0,
      fd_seek: () => 0,
      fd_close: () => 0,
      proc_exit: () => {
        throw new Error("exit");
      },
    },
  });
  memory = exports.memory;
  exports._initialize();

  /** Decodes the whole JPEG at 1/denominator, resampled to width x height; frees the result. */
  function decode(jpeg, full, denominator, width, height) {
    Object.assign(streams, { source: jpeg, offset: 0 });
    const pixels = exports.decode_jpeg(denominator, 0, 0, full.width, full.height, width, height);
    return { pixels, width, height };
  }
  function encode({ pixels, width, height }, quality) {
    streams.output = [];
    exports.encode_jpeg(pixels, width, height, quality, 1);
    return streams.output.reduce((sum, chunk) => sum + chunk.length, 0);
  }
  /** Copies RGBA pixels into the heap as an image `encode` takes. */
  function load(rgba, width, height) {
    const pixels = exports.engine_malloc(rgba.length);
    heap().set(rgba, pixels);
    return { pixels, width, height };
  }
  return { decode, encode, load, free: (image) => exports.engine_free(image.pixels), memory };
}

const median = (samples) => [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)];

function timed(iterations, work) {
  const samples = [];
  let result;
  for (let i = 0; i < iterations + 2; i++) {
    const start = performance.now();
    result = work();
    if (i >= 2) samples.push(performance.now() - start);
  }
  return { ms: median(samples), result };
}

/**
 * Times, for one JPEG: the DCT-scaled decode alone (resampler passing rows through), the decode
 * with the streamed resize to `outputWidth`, the progressive encode, and a full-size decode for
 * comparison; reports the heap the engine grew to for the scaled path (a fresh instance) and for
 * the full-size decode.
 */
export function engineStages(jpeg, full, denominator, outputWidth, quality, iterations) {
  const engine = instantiate();
  const scaled = { width: Math.ceil(full.width / denominator), height: Math.ceil(full.height / denominator) };
  const output = { width: outputWidth, height: Math.round((outputWidth * full.height) / full.width) };
  const decodeOnly = timed(iterations, () =>
    engine.free(engine.decode(jpeg, full, denominator, scaled.width, scaled.height)),
  );
  const decodeResize = timed(iterations, () =>
    engine.decode(jpeg, full, denominator, output.width, output.height),
  );
  const encode = timed(iterations, () => engine.encode(decodeResize.result, quality));
  engine.free(decodeResize.result);
  const scaledHeap = engine.memory.buffer.byteLength;

  const fullEngine = instantiate();
  const fullDecode = timed(Math.min(iterations, 5), () =>
    fullEngine.free(fullEngine.decode(jpeg, full, 1, full.width, full.height)),
  );
  return {
    denominator,
    decode: decodeOnly.ms,
    resize: decodeResize.ms - decodeOnly.ms,
    encode: encode.ms,
    total: decodeResize.ms + encode.ms,
    scaledHeap,
    fullDecode: fullDecode.ms,
    fullHeap: fullEngine.memory.buffer.byteLength,
  };
}

/** The engine's progressive JPEG size for the given RGBA pixels: the encoder alone, for comparing. */
export function engineJpegSize(rgba, width, height, quality) {
  const engine = instantiate();
  return engine.encode(engine.load(rgba, width, height), quality);
}
