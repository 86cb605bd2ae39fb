// npm run bench [-- <group> ...]   groups: thumbnails, full, colour, formats, gif, negotiate, cache
// (default: all)
//
// Measures the Worker in the real runtime (wrangler dev / workerd, local R2) side by side with sharp
// (libvips) doing the same work in this Node process. For every case: cache-miss latency over HTTP
// (each Worker request is for a key never processed before, each followed by sharp on the same input,
// so both see the same moments of a noisy machine), medians and the Worker/sharp ratio; the CPU time
// workerd spent per request (from /proc/<pid>/task/*/schedstat, nanoseconds); the isolate's
// WebAssembly memory after each request (the Worker's Server-Timing `wasm` entry); output bytes of
// both; and the Worker's own Server-Timing stages. `cache` compares cache hits with serving the
// original object.
//
// Inputs are made with sharp from the synthetic photo and cached in bench/.work/ (bench/inputs.mjs);
// the local R2/Cache state under bench/.work/state is recreated on every run. The Worker runs from
// a copy of src/ taken at the start, so edits made during a run do not reload it halfway. Results are
// also written to bench/.work/results.json.
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import sharp from "sharp";
import { openLocalBuckets } from "../scripts/lib/buckets.mjs";
import { freePort, snapshotWorker, spawnDevServer } from "../scripts/lib/dev-server.mjs";
import { benchInput } from "./inputs.mjs";
import { findWorkerRuntime, memoryOf } from "./workerd-memory.mjs";

const ROOT = new URL("..", import.meta.url).pathname;
const WORK_DIR = join(ROOT, "bench", ".work");
const STATE_DIR = join(WORK_DIR, "state");
const SNAPSHOT_DIR = join(WORK_DIR, "worker");
const WRANGLER_LOG = join(WORK_DIR, "wrangler.log");
const BUCKET = "demo";
const WARMUP = 1;
const REQUEST_TIMEOUT_MS = 120_000;

/** The Worker's defaults, given to sharp too so that both encode at the same settings. */
const JPEG_QUALITY = 85;
const WEBP_QUALITY = 85;
/** OSS's q_80 on a q90 JPEG source is 72 (relative to the source's quality, reference §11). */
const Q80_OF_Q90 = 72;
const Q80_OF_Q85 = 68;

const jpeg = (image, quality = JPEG_QUALITY, progressive = false) =>
  image.jpeg({ quality, progressive, chromaSubsampling: "4:2:0" }).toBuffer();

/**
 * The cases: the source, the process string, what sharp does for the same result, and how many runs.
 * `format` is the output the Worker must answer with (checked on every response).
 */
const CASES = [
  // Thumbnails: the most common request on any site.
  ...[
    ["photo-1024.jpg", 20],
    ["photo-12mp.jpg", 12],
  ].map(([input, runs]) => ({
    group: "thumbnails",
    input,
    process: "image/resize,w_200/interlace,1",
    sharp: (bytes) => jpeg(sharp(bytes).resize(200), JPEG_QUALITY, true),
    runs,
    format: "jpeg",
  })),
  ...[
    ["photo-12mp-progressive.jpg", 6],
    ["photo-48mp-progressive.jpg", 3],
  ].map(([input, runs]) => ({
    group: "thumbnails",
    input,
    process: "image/resize,w_200",
    sharp: (bytes) => jpeg(sharp(bytes).resize(200)),
    runs,
    format: "jpeg",
  })),
  // Full size: re-encoding, converting and editing originals.
  {
    group: "full",
    input: "photo-12mp.jpg",
    process: "image/quality,q_80",
    sharp: (b) => jpeg(sharp(b), Q80_OF_Q90),
    runs: 5,
    format: "jpeg",
  },
  {
    group: "full",
    input: "photo-12mp.jpg",
    process: "image/format,webp",
    sharp: (b) => sharp(b).webp({ quality: WEBP_QUALITY }).toBuffer(),
    runs: 3,
    format: "webp",
  },
  {
    group: "full",
    input: "photo-12mp.jpg",
    process: "image/rotate,90",
    sharp: (b) => jpeg(sharp(b).rotate(90)),
    runs: 4,
    format: "jpeg",
  },
  {
    group: "full",
    input: "photo-12mp.jpg",
    process: "image/blur,r_10,s_5",
    sharp: (b) => jpeg(sharp(b).blur(5)),
    runs: 3,
    format: "jpeg",
  },
  {
    group: "full",
    input: "photo-12mp.jpg",
    process: "image/resize,w_3000",
    sharp: (b) => jpeg(sharp(b).resize(3000)),
    runs: 4,
    format: "jpeg",
  },
  {
    group: "full",
    input: "photo-12mp-progressive.jpg",
    process: "image/quality,q_80",
    sharp: (b) => jpeg(sharp(b), Q80_OF_Q90),
    runs: 3,
    format: "jpeg",
  },
  {
    group: "full",
    input: "photo-24mp.jpg",
    process: "image/quality,q_80",
    sharp: (b) => jpeg(sharp(b), Q80_OF_Q90),
    runs: 3,
    format: "jpeg",
  },
  {
    group: "full",
    input: "photo-48mp.jpg",
    process: "image/quality,q_80",
    sharp: (b) => jpeg(sharp(b), Q80_OF_Q85),
    runs: 2,
    format: "jpeg",
  },
  {
    group: "full",
    input: "photo-48mp.jpg",
    process: "image/resize,w_3000",
    sharp: (b) => jpeg(sharp(b).resize(3000)),
    runs: 2,
    format: "jpeg",
  },
  // Colour management: the thumbnail of a Display P3 photo against the same of the untagged one,
  // and CMYK photos, whose inks convert before the resize.
  ...[
    ["photo-12mp.jpg", "image/resize,w_200/interlace,1", 12],
    ["photo-12mp-p3.jpg", "image/resize,w_200/interlace,1", 12],
    ["photo-12mp-cmyk.jpg", "image/resize,w_200/interlace,1", 6],
    ["photo-12mp-p3.jpg", "image/quality,q_80", 3],
    ["photo-12mp-cmyk.jpg", "image/quality,q_80", 3],
  ].map(([input, process, runs]) => ({
    group: "colour",
    input,
    process,
    sharp: (b) =>
      process.includes("w_200") ? jpeg(sharp(b).resize(200), JPEG_QUALITY, true) : jpeg(sharp(b), Q80_OF_Q90),
    runs,
    format: "jpeg",
  })),
  // Every format a site stores.
  ...[
    ["photo-12mp.png", "png"],
    ["screenshot-3840x2160.png", "png"],
    ["photo-12mp.webp", "webp"],
    ["photo-12mp-lossless.webp", "webp"],
    ["photo-12mp.avif", "avif"],
    ["photo-4mp.tiff", "jpeg"],
  ].flatMap(([input, format]) => [
    {
      group: "formats",
      input,
      process: "image/resize,w_200",
      sharp: (b) => encodeAs(sharp(b).resize(200), format),
      runs: 4,
      format,
    },
    {
      group: "formats",
      input,
      process: "image/resize,w_1080/quality,q_80",
      sharp: (b) => encodeAs(sharp(b).resize(1080), format, 80),
      runs: 3,
      format,
    },
  ]),
  ...["photo-12mp.png", "photo-12mp.webp", "photo-12mp.avif"].map((input) => ({
    group: "formats",
    input,
    process: "image/format,jpg",
    sharp: (b) => jpeg(sharp(b)),
    runs: 3,
    format: "jpeg",
  })),
  // An iPhone-style 12 MP grid HEIC (test/fixtures/heic): sharp's prebuilt libvips has no HEVC
  // decoder, so these rows have the Worker's figures alone.
  ...[
    ["image/resize,w_200", 4],
    ["image/resize,w_1080/quality,q_80", 3],
    ["image/format,jpg", 3],
  ].map(([process, runs]) => ({
    group: "formats",
    input: "grid-12mp.heic",
    process,
    runs,
    format: "jpeg",
  })),
  // Format negotiation on demo-auto (README "Format negotiation"): the same request answered for
  // three Accept headers, sharp writing the format the Worker answers with.
  ...[
    ["photo-12mp.jpg", "image/resize,w_1080", "jpeg", "jpeg"],
    ["photo-12mp.jpg", "image/resize,w_1920", "jpeg", "jpeg"],
    ["screenshot-3840x2160.png", "image/resize,w_1920", "png", "png"],
  ].flatMap(([input, process, oss]) =>
    [
      ["*/*", oss],
      ["image/webp,*/*", "webp"],
      ["image/avif,image/webp,*/*", "avif"],
    ].map(([accept, format]) => ({
      group: "negotiate",
      bucket: "demo-auto",
      accept,
      input,
      process,
      sharp: (b) => encodeAs(sharp(b).resize(Number(process.split("w_")[1])), format),
      runs: 3,
      format,
    })),
  ),
  // Animated GIF (bench/gif.mjs measures the same without the Worker): every frame kept.
  ...[
    ["image/resize,w_200", (b) => sharp(b, { animated: true }).resize(200, 113, { fit: "fill" })],
    ["image/format,gif", (b) => sharp(b, { animated: true })],
  ].map(([process, image]) => ({
    group: "gif",
    input: "anim-480x270-24.gif",
    process,
    sharp: (b) => image(b).gif().toBuffer(),
    runs: 3,
    format: "gif",
  })),
];

/** sharp's encoder for an output format at the Worker's default (or the given) quality. */
function encodeAs(image, format, quality) {
  switch (format) {
    case "png":
      return image.png().toBuffer();
    case "webp":
      return image.webp({ quality: quality ?? WEBP_QUALITY }).toBuffer();
    case "avif":
      return image.avif({ quality: quality ?? 60 }).toBuffer();
    default:
      return jpeg(image, quality ?? JPEG_QUALITY);
  }
}

// ---------------------------------------------------------------------------------------------------

/** A benchmark request that did not do what it should; the message is printed as is. */
class BenchFailure extends Error {
  /** The Worker's x-oss-request-id for the failed request, to find what it logged. */
  requestId;
}

const MiB = 1024 * 1024;
const fmtMs = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
const fmtBytes = (bytes) =>
  bytes >= MiB ? `${(bytes / MiB).toFixed(2)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;

/** Quantile with linear interpolation between the closest ranks. */
function quantile(samples, q) {
  const sorted = [...samples].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower);
}
const median = (samples) => quantile(samples, 0.5);

function printTable(headers, rows) {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => row[i].length)));
  const line = (cells) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i])));
  console.log(`  ${line(headers).join("  ")}`);
  for (const row of rows) console.log(`  ${line(row).join("  ")}`);
}

/** CPU time (ns) workerd's threads have used so far, from the scheduler's own accounting. */
function cpuNs(pid) {
  let total = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // a thread that ended while we looked
    }
  }
  return total;
}

/** `read;dur=1.2, cache;dur=0.3;desc="miss", wasm;desc="38.5"` as Map(stage -> {dur, desc}). */
function serverTiming(headers) {
  const stages = new Map();
  for (const entry of (headers.get("server-timing") ?? "").split(",")) {
    const [stage, ...params] = entry.trim().split(";");
    if (!stage) continue;
    const dur = params.find((p) => p.startsWith("dur="))?.slice(4);
    const desc = params.find((p) => p.startsWith("desc="))?.slice(6, -1);
    stages.set(stage, { dur: dur === undefined ? undefined : Number(dur), desc });
  }
  return stages;
}

const CONTENT_TYPES = {
  jpeg: "image/jpeg",
  png: "image/png",
  webp: "image/webp",
  avif: "image/avif",
  gif: "image/gif",
};

/** GET `url`; returns the body, headers and the time to the last byte. Fails on anything but 200. */
async function timedGet(url, format, accept) {
  const start = performance.now();
  const headers = accept ? { Accept: accept } : {};
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const body = Buffer.from(await response.arrayBuffer());
  const ms = performance.now() - start;
  if (response.status !== 200) {
    const failure = new BenchFailure(
      `GET ${url} returned ${response.status}:\n${body.toString("utf8").slice(0, 600)}`,
    );
    failure.requestId = response.headers.get("x-oss-request-id");
    throw failure;
  }
  const type = response.headers.get("content-type");
  if (format && type !== CONTENT_TYPES[format]) {
    throw new BenchFailure(`GET ${url}: Content-Type ${type}, expected ${CONTENT_TYPES[format]}`);
  }
  return { ms, body, headers: response.headers };
}

const keyOf = (c, index) => `bench/${c.id}/${index}/${c.input}`;

/** One case: Worker misses interleaved with sharp, CPU time per Worker request, memory, bytes. */
async function runCase(base, workerd, c, input) {
  const worker = [];
  const native = [];
  const cpu = [];
  const stages = new Map();
  let wasm = 0;
  let workerBytes = 0;
  let sharpBytes = 0;
  for (let i = 0; i < WARMUP + c.runs; i++) {
    const url = `${base}/${c.bucket ?? BUCKET}/${keyOf(c, i)}?x-oss-process=${c.process}`;
    const before = cpuNs(workerd);
    const { ms, body, headers } = await timedGet(url, c.format, c.accept);
    const cpuMs = (cpuNs(workerd) - before) / 1e6;
    if (headers.get("x-cache") !== "MISS") throw new BenchFailure(`GET ${url}: not a cache miss`);
    const start = performance.now();
    const reference = c.sharp ? await c.sharp(input) : undefined;
    const sharpMs = c.sharp ? performance.now() - start : Number.NaN;
    const timing = serverTiming(headers);
    wasm = Math.max(wasm, Number(timing.get("wasm")?.desc ?? 0));
    if (i < WARMUP) continue;
    worker.push(ms);
    native.push(sharpMs);
    cpu.push(cpuMs);
    for (const [stage, { dur }] of timing) {
      if (dur !== undefined) stages.set(stage, [...(stages.get(stage) ?? []), dur]);
    }
    workerBytes = body.length;
    sharpBytes = reference?.length ?? Number.NaN;
  }
  return {
    case: `${c.input} ${c.process}${c.accept ? ` (Accept: ${c.accept})` : ""}`,
    group: c.group,
    runs: c.runs,
    workerMs: median(worker),
    sharpMs: median(native),
    ratio: median(worker) / median(native),
    cpuMs: median(cpu),
    wasmMiB: wasm,
    workerBytes,
    sharpBytes,
    stages: Object.fromEntries([...stages].map(([stage, samples]) => [stage, median(samples)])),
  };
}

/** Cache hits on a processed variant against serving the original object. */
async function cacheRuns(base, c) {
  const variant = `${base}/${BUCKET}/${keyOf(c, WARMUP)}?x-oss-process=${c.process}`;
  const original = `${base}/${BUCKET}/${keyOf(c, WARMUP)}`;
  const deadline = Date.now() + 10_000;
  // The Worker writes the cache in waitUntil, after the response: poll until the entry is there.
  while ((await timedGet(variant)).headers.get("x-cache") !== "HIT") {
    if (Date.now() > deadline) throw new BenchFailure(`GET ${variant} never became X-Cache: HIT`);
    await sleep(100);
  }
  const hits = [];
  const originals = [];
  for (let i = 0; i < 25; i++) {
    hits.push((await timedGet(variant)).ms);
    originals.push((await timedGet(original)).ms);
  }
  return { case: `${c.input} ${c.process}`, hitMs: median(hits), originalMs: median(originals) };
}

async function uploadInputs(cases, inputs) {
  const local = await openLocalBuckets(STATE_DIR);
  try {
    for (const c of cases) {
      const bucket = await local.bucket(c.bucket ?? BUCKET);
      for (let i = 0; i < WARMUP + c.runs; i++) {
        // A plain Uint8Array copy: Miniflare's R2 binding rejects a Node Buffer.
        await bucket.put(keyOf(c, i), new Uint8Array(inputs.get(c.input)));
      }
    }
  } finally {
    await local.dispose();
  }
}

function printResults(group, results) {
  console.log(`\n${group}: cache misses over HTTP, Worker vs sharp in this process (medians)`);
  const answered = results.filter((r) => !r.refused);
  printTable(
    ["case", "runs", "Worker", "sharp", "Worker/sharp", "workerd CPU", "wasm MiB", "Worker out", "sharp out"],
    answered.map((r) => [
      r.case,
      String(r.runs),
      fmtMs(r.workerMs),
      Number.isNaN(r.sharpMs) ? "-" : fmtMs(r.sharpMs),
      Number.isNaN(r.ratio) ? "-" : `${r.ratio.toFixed(2)}x`,
      fmtMs(r.cpuMs),
      r.wasmMiB.toFixed(1),
      fmtBytes(r.workerBytes),
      Number.isNaN(r.sharpBytes) ? "-" : fmtBytes(r.sharpBytes),
    ]),
  );
  for (const r of results.filter((each) => each.refused)) console.log(`  ${r.case}: refused, ${r.refused}`);
  console.log(`  Server-Timing stages inside the Worker (medians):`);
  for (const r of answered) {
    const parts = Object.entries(r.stages).map(([stage, ms]) => `${stage} ${fmtMs(ms)}`);
    console.log(`    ${r.case}: ${parts.join(", ")}`);
  }
}

async function main() {
  const groups = process.argv.slice(2);
  const wanted = (group) => groups.length === 0 || groups.includes(group);
  const cases = CASES.filter((c) => wanted(c.group)).map((c, id) => ({ ...c, id }));
  const started = performance.now();
  const cpus = os.cpus();
  console.log(
    `Machine: ${cpus[0]?.model ?? "unknown CPU"}, ${cpus.length} cores, load ${os.loadavg()[0].toFixed(1)}`,
  );
  console.log(`Node ${process.version}, sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips})`);
  // libvips caches operations: repeated identical calls could be answered from that cache, which
  // would not compare with the Worker's cache misses. sharp keeps its default thread pool (the
  // Worker has one thread): that is what sharp users run.
  sharp.cache(false);

  const inputs = new Map();
  for (const name of new Set(cases.map((c) => c.input))) inputs.set(name, await benchInput(WORK_DIR, name));
  for (const [name, bytes] of inputs) console.log(`Input ${name}: ${fmtBytes(bytes.length)}`);
  rmSync(STATE_DIR, { recursive: true, force: true });
  await uploadInputs(cases, inputs);

  const server = spawnDevServer({
    cwd: ROOT,
    config: snapshotWorker(ROOT, SNAPSHOT_DIR),
    port: await freePort(),
    stateDir: STATE_DIR,
    vars: {},
    logPath: WRANGLER_LOG,
  });
  const stopOnSignal = (signal) => {
    interrupted = true;
    console.error(`\n${signal}: stopping wrangler dev`);
    server.stop().finally(() => process.exit(130));
  };
  process.once("SIGINT", stopOnSignal);
  process.once("SIGTERM", stopOnSignal);
  process.once("exit", () => server.killNow());
  const report = { machine: cpus[0]?.model, cores: cpus.length, results: [], cache: [] };
  try {
    await server.ready();
    const { workerd } = findWorkerRuntime(server);
    const idle = memoryOf(workerd);
    for (const group of ["thumbnails", "full", "colour", "formats", "gif", "negotiate"]) {
      const inGroup = cases.filter((c) => c.group === group);
      if (inGroup.length === 0) continue;
      const results = [];
      for (const c of inGroup) {
        process.stdout.write(`  ${c.input} ${c.process} ...`);
        const t = performance.now();
        try {
          results.push(await runCase(server.base, workerd, c, inputs.get(c.input)));
        } catch (error) {
          // A case the Worker refuses is a result too: it is reported with its OSS error.
          const refused = error instanceof BenchFailure && /returned 4\d\d/.exec(error.message);
          if (!refused) throw error;
          const code = /<Code>([^<]*)<\/Code>/.exec(error.message)?.[1];
          const message = /<Message>([^<]*)<\/Message>/.exec(error.message)?.[1];
          results.push({ case: `${c.input} ${c.process}`, group, runs: 0, refused: `${code}: ${message}` });
        }
        console.log(` ${((performance.now() - t) / 1000).toFixed(0)} s`);
      }
      printResults(group, results);
      report.results.push(...results);
    }
    if (wanted("cache")) {
      const thumbnails = cases.filter((c) => c.group === "thumbnails").slice(0, 2);
      for (const c of thumbnails) report.cache.push(await cacheRuns(server.base, c));
      if (report.cache.length) {
        console.log(
          "\ncache: hits (X-Cache: HIT) against the original object (no x-oss-process), 25 runs each",
        );
        printTable(
          ["case", "hit", "original", "hit/original"],
          report.cache.map((r) => [
            r.case,
            fmtMs(r.hitMs),
            fmtMs(r.originalMs),
            `${(r.hitMs / r.originalMs).toFixed(2)}x`,
          ]),
        );
      }
    }
    const end = memoryOf(workerd);
    console.log(
      `\nworkerd memory: idle ${fmtBytes(idle.rss)} RSS; after the runs ${fmtBytes(end.rss)} RSS, peak ${fmtBytes(end.hwm)}`,
    );
  } catch (error) {
    if (error instanceof BenchFailure && error.requestId) {
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
  writeFileSync(join(WORK_DIR, "results.json"), `${JSON.stringify(report, null, 2)}\n`);
  console.log(
    `\nTotal ${((performance.now() - started) / 1000).toFixed(0)} s; results in bench/.work/results.json`,
  );
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
