// npm run bench
// Measures the Worker in the real runtime (wrangler dev / workerd, local R2) against sharp (libvips)
// doing the same work in this Node process: `image/resize,w_200/interlace,1` on a 1024x768 and a
// 4032x3024 photo-like JPEG. Reports cache-miss latency (real processing), cache-hit latency versus
// serving the original bytes, output sizes, the peak memory of the workerd process, and where the
// time goes inside the codec engine (bench/engine-stages.mjs, run in this process).
//
// Inputs are cached in bench/.work/; the local R2/Cache state under bench/.work/state is recreated on
// every run, so earlier runs cannot turn cache misses into hits. The Worker runs from a copy of src/
// taken at the start (bench/.work/worker), so edits made during a run do not reload it halfway.
import { readFileSync, rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import sharp from "sharp";
import { openLocalBuckets } from "../scripts/lib/buckets.mjs";
import { freePort, snapshotWorker, spawnDevServer } from "../scripts/lib/dev-server.mjs";
import { engineJpegSize, engineStages } from "./engine-stages.mjs";
import { photoJpeg } from "./photo.mjs";
import { findWorkerRuntime, memoryOf } from "./workerd-memory.mjs";

const ROOT = new URL("..", import.meta.url).pathname;
const WORK_DIR = join(ROOT, "bench", ".work");
const STATE_DIR = join(WORK_DIR, "state");
const SNAPSHOT_DIR = join(WORK_DIR, "worker");
const WRANGLER_LOG = join(WORK_DIR, "wrangler.log");

const BUCKET = "demo";
const PROCESS = "image/resize,w_200/interlace,1";
const OUTPUT_WIDTH = 200;
/** The Worker's default JPEG quality; sharp gets the same so output sizes are comparable. */
const JPEG_QUALITY = 85;

const WARMUP = 2;
/** Cache-hit and original-bytes requests per input; they are cheap. */
const SERVE_ITERATIONS = 30;
const CASES = [
  { width: 1024, height: 768, iterations: 25 },
  { width: 4032, height: 3024, iterations: 20 },
];

const REQUEST_TIMEOUT_MS = 60_000;

/** A benchmark request that did not do what it should; the message is printed as is. */
class BenchFailure extends Error {
  /** The Worker's x-oss-request-id for the failed request, to find what it logged. */
  requestId;
}

// ---------------------------------------------------------------------------------------------------

const MiB = 1024 * 1024;
const fmtMs = (ms) => `${ms.toFixed(1)} ms`;
const fmtBytes = (bytes) =>
  bytes >= MiB ? `${(bytes / MiB).toFixed(2)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
const fmtMiB = (bytes) => `${(bytes / MiB).toFixed(1)} MiB`;

/** Quantile with linear interpolation between the closest ranks. */
function quantile(samples, q) {
  const sorted = [...samples].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower);
}
const summary = (samples) => ({ median: quantile(samples, 0.5), p90: quantile(samples, 0.9) });

function printTable(headers, rows) {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => row[i].length)));
  const line = (cells) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i])));
  console.log(`  ${line(headers).join("  ")}`);
  for (const row of rows) console.log(`  ${line(row).join("  ")}`);
}

const keyOf = ({ width }, index) => `bench/${width}-${index}.jpg`;
const label = ({ width, height }) => `${width}x${height}`;

// ---------------------------------------------------------------------------------------------------

/** GET `url`; returns the body and the time to the last byte. Fails on anything but 200. */
async function timedGet(url) {
  const start = performance.now();
  const response = await fetch(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const body = Buffer.from(await response.arrayBuffer());
  const ms = performance.now() - start;
  if (response.status !== 200) {
    const failure = new BenchFailure(`GET ${url} returned ${response.status}:\n${body.toString("utf8")}`);
    failure.requestId = response.headers.get("x-oss-request-id");
    throw failure;
  }
  return { ms, body, headers: response.headers };
}

/** GET a processed variant and check it is a JPEG with the expected cache status. */
async function processedGet(url, expectedCache) {
  const result = await timedGet(url);
  const type = result.headers.get("content-type");
  if (type !== "image/jpeg") throw new BenchFailure(`GET ${url}: Content-Type ${type}, expected image/jpeg`);
  const cache = result.headers.get("x-cache");
  if (expectedCache && cache !== expectedCache) {
    throw new BenchFailure(`GET ${url}: X-Cache ${cache}, expected ${expectedCache}`);
  }
  return result;
}

/** Checks that `jpeg` is a `OUTPUT_WIDTH`-wide JPEG of the input's aspect ratio; returns its metadata. */
async function checkOutput(what, jpeg, c) {
  const meta = await sharp(jpeg).metadata();
  const height = Math.round((OUTPUT_WIDTH * c.height) / c.width);
  if (meta.format !== "jpeg" || meta.width !== OUTPUT_WIDTH || meta.height !== height) {
    throw new BenchFailure(
      `${what} for ${label(c)} is a ${meta.width}x${meta.height} ${meta.format}, expected a ${OUTPUT_WIDTH}x${height} jpeg`,
    );
  }
  return meta;
}

/** sharp (libvips) doing the same work: decode, resize to 200 wide, progressive JPEG, same quality. */
const sharpResize = (input) =>
  sharp(input).resize({ width: OUTPUT_WIDTH }).jpeg({ quality: JPEG_QUALITY, progressive: true }).toBuffer();

/**
 * Cache misses (every request is for a key not processed before: the cache key includes the key),
 * each followed by sharp doing the same work, so both see the same moments of a noisy machine.
 */
async function missesSideBySide(base, input, c) {
  const workerSamples = [];
  const sharpSamples = [];
  /** Stage name -> the Worker's own Server-Timing durations for it. */
  const stageSamples = new Map();
  let workerOutput;
  let sharpOutput;
  for (let i = 0; i < WARMUP + c.iterations; i++) {
    const url = `${base}/${BUCKET}/${keyOf(c, i)}?x-oss-process=${PROCESS}`;
    const { ms, body, headers } = await processedGet(url, "MISS");
    const start = performance.now();
    sharpOutput = await sharpResize(input);
    const sharpMs = performance.now() - start;
    if (i < WARMUP) continue;
    workerSamples.push(ms);
    sharpSamples.push(sharpMs);
    for (const [stage, duration] of serverTiming(headers)) {
      stageSamples.set(stage, [...(stageSamples.get(stage) ?? []), duration]);
    }
    workerOutput ??= body;
  }
  const meta = await checkOutput("The Worker's output", workerOutput, c);
  await checkOutput("sharp's output", sharpOutput, c);
  return {
    worker: {
      ...summary(workerSamples),
      bytes: workerOutput.length,
      progressive: meta.isProgressive,
      stages: [...stageSamples].map(([stage, samples]) => [stage, quantile(samples, 0.5)]),
    },
    native: { ...summary(sharpSamples), bytes: sharpOutput.length },
  };
}

/** `read;dur=1.2, cache;dur=0.3;desc="miss"` as [["read", 1.2], ["cache", 0.3]]. */
function serverTiming(headers) {
  return (headers.get("server-timing") ?? "")
    .split(",")
    .map((entry) => entry.trim().split(";"))
    .filter(([stage]) => stage)
    .map(([stage, ...params]) => [
      stage,
      Number(params.find((p) => p.startsWith("dur="))?.slice(4) ?? Number.NaN),
    ]);
}

/** Cache hits on an already processed variant, and the original object served without processing. */
async function servingRuns(base, c, input) {
  const key = keyOf(c, WARMUP); // processed during the miss runs
  const variantUrl = `${base}/${BUCKET}/${key}?x-oss-process=${PROCESS}`;
  // The Worker writes the cache in waitUntil, after the response; poll until the entry is there.
  const deadline = Date.now() + 10_000;
  while ((await processedGet(variantUrl)).headers.get("x-cache") !== "HIT") {
    if (Date.now() > deadline) throw new BenchFailure(`GET ${variantUrl} never became X-Cache: HIT`);
    await sleep(100);
  }

  const hits = [];
  const originals = [];
  const originalUrl = `${base}/${BUCKET}/${key}`;
  for (let i = 0; i < WARMUP + SERVE_ITERATIONS; i++) {
    const hit = await processedGet(variantUrl, "HIT");
    const original = await timedGet(originalUrl);
    if (!original.body.equals(input)) throw new BenchFailure(`GET ${originalUrl} did not return the upload`);
    if (i < WARMUP) continue;
    hits.push(hit.ms);
    originals.push(original.ms);
  }
  return { hit: summary(hits), original: summary(originals) };
}

// ---------------------------------------------------------------------------------------------------

async function uploadInputs(inputs) {
  const local = await openLocalBuckets(STATE_DIR);
  try {
    const bucket = await local.bucket(BUCKET);
    for (const c of CASES) {
      for (let i = 0; i < WARMUP + c.iterations; i++) {
        // A plain Uint8Array copy: Miniflare's R2 binding rejects a Node Buffer (with an opaque
        // "false == true" assertion).
        await bucket.put(keyOf(c, i), new Uint8Array(inputs.get(c)), {
          httpMetadata: { contentType: "image/jpeg" },
        });
      }
    }
  } finally {
    await local.dispose();
  }
}

function printReport({ idle, results }) {
  console.log(
    `\nCache miss: ?x-oss-process=${PROCESS}  (sharp: resize width ${OUTPUT_WIDTH}, JPEG q${JPEG_QUALITY} progressive)`,
  );
  printTable(
    [
      "input",
      "runs",
      "Worker median",
      "Worker p90",
      "sharp median",
      "sharp p90",
      "Worker/sharp",
      "Worker out",
      "sharp out",
    ],
    results.map(({ c, worker, native }) => [
      label(c),
      String(c.iterations),
      fmtMs(worker.median),
      fmtMs(worker.p90),
      fmtMs(native.median),
      fmtMs(native.p90),
      `${(worker.median / native.median).toFixed(1)}x`,
      `${worker.bytes} B${worker.progressive ? "" : " (baseline!)"}`,
      `${native.bytes} B`,
    ]),
  );

  console.log(
    "\nInside the Worker on those misses: its Server-Timing stages (medians; the rest is HTTP and wrangler's proxy)",
  );
  const stages = results[0].worker.stages.map(([stage]) => stage);
  printTable(
    ["input", ...stages, "sum", "HTTP total"],
    results.map(({ c, worker }) => {
      const durations = new Map(worker.stages);
      const sum = stages.reduce((total, stage) => total + (durations.get(stage) ?? 0), 0);
      return [
        label(c),
        ...stages.map((stage) => fmtMs(durations.get(stage) ?? 0)),
        fmtMs(sum),
        fmtMs(worker.median),
      ];
    }),
  );

  console.log(
    `\nCache hit (X-Cache: HIT) vs original object (no x-oss-process), ${SERVE_ITERATIONS} runs each`,
  );
  printTable(
    ["input", "hit median", "hit p90", "original median", "original p90", "hit/original"],
    results.map(({ c, serving }) => [
      label(c),
      fmtMs(serving.hit.median),
      fmtMs(serving.hit.p90),
      fmtMs(serving.original.median),
      fmtMs(serving.original.p90),
      `${(serving.hit.median / serving.original.median).toFixed(2)}x`,
    ]),
  );

  console.log(
    "\nWorker workerd memory (VmHWM is the process-lifetime peak: each figure includes the runs before it)",
  );
  printTable(
    ["when", "VmRSS", "VmHWM"],
    [
      ["idle, after start", fmtMiB(idle.rss), fmtMiB(idle.hwm)],
      ...results.map(({ c, memory }) => [`after ${label(c)} runs`, fmtMiB(memory.rss), fmtMiB(memory.hwm)]),
    ],
  );
}

/** The planner's shrink-on-load choice (src/codecs/jpeg.ts dctDenominator) for the output width. */
function dctDenominator(c) {
  const height = (OUTPUT_WIDTH * c.height) / c.width;
  return [8, 4, 2].find((d) => c.width / d >= OUTPUT_WIDTH && c.height / d >= height) ?? 1;
}

/** Both encoders on the same pixels (sharp's resize of the input), so only the encoders differ. */
async function printEncoderSizes(inputs) {
  console.log(
    `\nEncoders alone on the same pixels (sharp's resize to ${OUTPUT_WIDTH} wide), progressive q${JPEG_QUALITY}`,
  );
  const rows = [];
  for (const c of CASES) {
    const { data, info } = await sharp(inputs.get(c))
      .resize({ width: OUTPUT_WIDTH })
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const engine = engineJpegSize(data, info.width, info.height, JPEG_QUALITY);
    const native = (
      await sharp(data, { raw: info }).jpeg({ quality: JPEG_QUALITY, progressive: true }).toBuffer()
    ).length;
    rows.push([label(c), `${engine} B`, `${native} B`, `${(engine / native).toFixed(3)}x`]);
  }
  printTable(["input", "engine", "sharp", "engine/sharp"], rows);
}

function printStages(inputs) {
  console.log(
    "\nInside the codec engine (wasm/engine.wasm in this Node process; medians; heap = WASM memory grown to)",
  );
  printTable(
    ["input", "DCT scale", "decode", "resize", "encode", "total", "heap", "full-size decode", "its heap"],
    CASES.map((c) => {
      const stages = engineStages(
        inputs.get(c),
        c,
        dctDenominator(c),
        OUTPUT_WIDTH,
        JPEG_QUALITY,
        c.iterations,
      );
      return [
        label(c),
        `1/${stages.denominator}`,
        fmtMs(stages.decode),
        fmtMs(stages.resize),
        fmtMs(stages.encode),
        fmtMs(stages.total),
        fmtMiB(stages.scaledHeap),
        fmtMs(stages.fullDecode),
        fmtMiB(stages.fullHeap),
      ];
    }),
  );
}

/** Runs every case against the started Worker and sharp; returns what printReport shows. */
async function measure(server, inputs) {
  const { workerd, proxy } = findWorkerRuntime(server);
  const idle = memoryOf(workerd);
  console.log(
    `Worker: wrangler dev at ${server.base}, Worker runtime workerd pid ${workerd}` +
      `${proxy ? ` (wrangler's proxy: workerd pid ${proxy})` : ""}; log in ${WRANGLER_LOG.slice(ROOT.length)}`,
  );

  const results = [];
  for (const c of CASES) {
    process.stdout.write(`Running ${label(c)} ...`);
    const started = performance.now();
    const { worker, native } = await missesSideBySide(server.base, inputs.get(c), c);
    const serving = await servingRuns(server.base, c, inputs.get(c));
    const memory = memoryOf(workerd);
    results.push({ c, worker, native, serving, memory });
    console.log(` ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  return { idle, results };
}

async function main() {
  const started = performance.now();
  const cpus = os.cpus();
  console.log(
    `Machine: ${cpus[0]?.model ?? "unknown CPU"}, ${cpus.length} cores, ${os.platform()} ${os.release()}`,
  );
  console.log(`Node ${process.version}, sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips})`);
  // libvips caches operations; identical repeated calls could be answered from that cache, which
  // would not be a like-for-like comparison with the Worker's cache misses.
  sharp.cache(false);

  const inputs = new Map();
  for (const c of CASES) {
    const { path, bytes } = await photoJpeg(WORK_DIR, c.width, c.height);
    inputs.set(c, bytes);
    console.log(`Input ${label(c)}: ${fmtBytes(bytes.length)} q90 4:2:0 JPEG (${path.slice(ROOT.length)})`);
  }

  rmSync(STATE_DIR, { recursive: true, force: true });
  await uploadInputs(inputs);

  const server = spawnDevServer({
    cwd: ROOT,
    config: snapshotWorker(ROOT, SNAPSHOT_DIR),
    port: await freePort(),
    stateDir: STATE_DIR,
    vars: {},
    logPath: WRANGLER_LOG,
  });
  // wrangler runs in its own process group (see spawnDevServer), so Ctrl-C only reaches us.
  const stopOnSignal = (signal) => {
    interrupted = true;
    console.error(`\n${signal}: stopping wrangler dev`);
    server.stop().finally(() => process.exit(130));
  };
  process.once("SIGINT", stopOnSignal);
  process.once("SIGTERM", stopOnSignal);
  process.once("exit", () => server.killNow());
  try {
    await server.ready();
    printReport(await measure(server, inputs));
    printStages(inputs);
    await printEncoderSizes(inputs);
  } catch (error) {
    if (error instanceof BenchFailure && error.requestId) {
      // The Worker logs internal errors (500s) with the request id; wrangler relays them a moment later.
      await sleep(500);
      const logged = readFileSync(WRANGLER_LOG, "utf8")
        .split("\n")
        .filter((line) => line.includes(error.requestId));
      if (logged.length > 0) error.message += `\nThe Worker logged:\n${logged.join("\n")}`;
    }
    throw error;
  } finally {
    await server.stop();
  }
  console.log(`\nTotal ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

/** Set on Ctrl-C: the requests then in flight fail, and that is not worth reporting. */
let interrupted = false;

try {
  await main();
} catch (error) {
  if (!interrupted) {
    console.error(`\nbench failed: ${error instanceof BenchFailure ? error.message : error.stack}`);
    process.exitCode = 1;
  }
}
