// node bench/gif.mjs — GIF bytes and time: the codec engine (wasm/engine.wasm, run here in Node
// through the same imports src/engine/instance.ts gives it) side by side with sharp (libvips + cgif)
// on the same frames: a 24-frame 480x270 animation (the scene with a moving disc, written by
// sharp), re-encoded unchanged and resized to w_200. `npm run bench` has the same cases through the
// Worker (group "gif"); this script needs no Worker and prints in a second.
import { readFileSync } from "node:fs";
import sharp from "sharp";
import { movingDiscGif } from "../scripts/lib/gif-images.mjs";

const OP = { DECODE_GIF: 5, RESIZE: 20, ENCODE_GIF: 53 };

/** The engine over its own memory, with the imports it needs (see src/engine/instance.ts). */
export function loadEngine() {
  const module = new WebAssembly.Module(readFileSync(new URL("../wasm/engine.wasm", import.meta.url)));
  const memory = new WebAssembly.Memory({ initial: 64, maximum: (96 * 1024 * 1024) / 65536 });
  const heap = () => new Uint8Array(memory.buffer);
  const streams = { sources: [], output: [] };
  let tempRet0 = 0;
  const instance = new WebAssembly.Instance(module, {
    env: {
      memory,
      source_read(source, offset, target, length) {
        const bytes = streams.sources[source];
        if (!bytes || offset >= bytes.length) return 0;
        const count = Math.min(length, bytes.length - offset);
        heap().set(bytes.subarray(offset, offset + count), target);
        return count;
      },
      source_size: (source) => streams.sources[source]?.length ?? 0,
      output_write(bytes, length) {
        streams.output.push(heap().slice(bytes, bytes + length));
      },
      engine_warn() {},
      engine_now: () => performance.now(),
      emscripten_notify_memory_growth() {},
      __syscall_unlink: () => -1,
      __syscall_rmdir: () => -1,
      setTempRet0(value) {
        tempRet0 = value;
      },
      getTempRet0: () => tempRet0,
    },
    wasi_snapshot_preview1: {
      environ_sizes_get: () => 0,
      environ_get: () => 0,
      fd_write: () => 0,
      fd_seek: () => 0,
      fd_close: () => 0,
      fd_read: () => 0,
      clock_time_get: () => 0,
      proc_exit() {
        throw new Error("exit");
      },
    },
  });
  const exports = instance.exports;
  exports._initialize();
  /** Runs ops ([code, ...args]) on `source`; answers the bytes written and the heap's peak. */
  return (source, ops) => {
    streams.sources = [source];
    streams.output = [];
    const words = new Float64Array(ops.length * 16);
    ops.forEach(([code, ...args], i) => {
      words[i * 16] = code;
      words.set(args, i * 16 + 1);
    });
    const pointer = exports.engine_malloc(words.byteLength);
    heap().set(new Uint8Array(words.buffer), pointer);
    exports.engine_reset_peak();
    try {
      exports.pipeline_run(pointer, ops.length);
    } catch (error) {
      const message = new TextDecoder().decode(
        heap().subarray(
          exports.engine_failure_message(),
          heap().indexOf(0, exports.engine_failure_message()),
        ),
      );
      throw new Error(`engine: ${message} (${error})`);
    }
    exports.engine_free(pointer);
    return { bytes: Buffer.concat(streams.output), peak: exports.engine_peak_bytes() };
  };
}

/** The engine's GIF to GIF: all frames, resized to `width` when given (as the Worker plans it). */
function engineGif(run, source, width) {
  const meta = { width: source.readUInt16LE(6), height: source.readUInt16LE(8) };
  const ops = [[OP.DECODE_GIF, 0, 0, 1]];
  let out = meta;
  if (width) {
    out = { width, height: Math.max(1, Math.round((meta.height * width) / meta.width)) };
    ops.push([OP.RESIZE, meta.width, meta.height, 0, 0, meta.width, meta.height, out.width, out.height, 1]);
  }
  ops.push([OP.ENCODE_GIF, out.width, out.height, 24]);
  return run(source, ops);
}

/** PSNR (RGB) of a GIF's frames against raw RGBA frames of the same size. */
async function psnr(gif, reference) {
  const decoded = await sharp(gif, { animated: true }).ensureAlpha().raw().toBuffer();
  let error = 0;
  let count = 0;
  for (let i = 0; i < reference.length; i += 4) {
    for (let c = 0; c < 3; c++) {
      error += (decoded[i + c] - reference[i + c]) ** 2;
      count++;
    }
  }
  return 10 * Math.log10((255 * 255) / (error / count));
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function time(work, runs = 5) {
  const ms = [];
  let result;
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    result = await work();
    ms.push(performance.now() - started);
  }
  return { result, ms: median(ms) };
}

async function main() {
  const source = await movingDiscGif(480, 270, 24);
  const run = loadEngine();
  const cases = [
    ["unchanged re-encode", undefined, () => sharp(source, { animated: true }).gif().toBuffer()],
    // 200x113 as OSS rounds (sharp alone would make 112-row pages).
    [
      "resize,w_200",
      200,
      () => sharp(source, { animated: true }).resize(200, 113, { fit: "fill" }).gif().toBuffer(),
    ],
  ];
  console.log(`source: 24 frames 480x270, ${source.length} B (sharp)`);
  console.log(
    "case                 engine B   sharp B  ratio  engine ms  sharp ms  engine peak MiB  PSNR engine  sharp",
  );
  for (const [name, width, viaSharp] of cases) {
    const engine = await time(() => engineGif(run, source, width));
    const reference = await time(viaSharp, 3);
    const ratio = engine.result.bytes.length / reference.result.length;
    // The frames before any palette: the source's own (already quantised by sharp), resized by sharp.
    const frames = sharp(source, { animated: true });
    const truth = await (width ? frames.resize(200, 113, { fit: "fill" }) : frames)
      .ensureAlpha()
      .raw()
      .toBuffer();
    const quality = [await psnr(engine.result.bytes, truth), await psnr(reference.result, truth)];
    console.log(
      `${name.padEnd(20)} ${String(engine.result.bytes.length).padStart(8)} ${String(reference.result.length).padStart(9)}  ${ratio.toFixed(2).padStart(5)}  ${engine.ms.toFixed(1).padStart(9)} ${reference.ms.toFixed(1).padStart(9)}  ${(engine.result.peak / 1048576).toFixed(2).padStart(15)}  ${quality[0].toFixed(1).padStart(11)}  ${quality[1].toFixed(1).padStart(5)}`,
    );
    const written = (await sharp(engine.result.bytes, { animated: true }).metadata()).pages;
    if (written !== 24) throw new Error(`${name}: the engine wrote ${written} frames`);
  }
  console.log(
    `(source re-encode ratio against the source itself: see the first row's engine B / ${source.length})`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
