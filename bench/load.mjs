// npm run load [-- --connections 32 --amount 4000 --rounds 3 --timeout 30]
// A load test of the Worker in the real runtime (wrangler dev / workerd, local R2 and Cache API) with
// autocannon: many concurrent connections sending a deterministic mix of cache hits (a few popular
// variants), cache misses (variants never asked before: resizes, format changes, crops, a watermark,
// on JPEG, transparent PNG and animated GIF sources) and requests that must fail cleanly (unknown
// action, missing object, parameter out of range). Every response is checked against what its
// request expects; a 5xx, a timeout, a connection error or any other status is a failed request and
// makes the run exit non-zero. The memory of the workerd process running the Worker is sampled every
// 250 ms, to show whether it stays flat under sustained load; the same load runs three times
// (--rounds), since RSS takes the first rounds to reach its working size and only the later ones show
// whether it keeps growing.
//
// Like the bench (bench/run.mjs): fresh local state in bench/.work/load-state, the Worker run from a
// snapshot of src/ (bench/.work/load-worker), default vars (the default memory budget), and the
// wrangler output in bench/.work/load-wrangler.log, where the Worker logs every request's id;
// failed requests are also written to bench/.work/load-failures.json.
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import sharp from "sharp";
import { openLocalBuckets } from "../scripts/lib/buckets.mjs";
import { freePort, snapshotWorker, spawnDevServer } from "../scripts/lib/dev-server.mjs";
import { renderScene } from "../scripts/lib/scene.mjs";
import { photoJpeg } from "./photo.mjs";
import { findWorkerRuntime, memoryOf } from "./workerd-memory.mjs";

const ROOT = new URL("..", import.meta.url).pathname;
const WORK_DIR = join(ROOT, "bench", ".work");
const STATE_DIR = join(WORK_DIR, "load-state");
const SNAPSHOT_DIR = join(WORK_DIR, "load-worker");
const WRANGLER_LOG = join(WORK_DIR, "load-wrangler.log");
const FAILURES_FILE = join(WORK_DIR, "load-failures.json");

const { values: options } = parseArgs({
  options: {
    connections: { type: "string", default: "32" },
    amount: { type: "string", default: "4000" },
    rounds: { type: "string", default: "3" },
    // Above the Worker's own 25 s request deadline, so a slow request is answered (400
    // RequestTimeout, a failure here) rather than cut off without an answer.
    timeout: { type: "string", default: "30" },
  },
});
const CONNECTIONS = positiveInteger("connections");
const AMOUNT = positiveInteger("amount");
const ROUNDS = positiveInteger("rounds");
const TIMEOUT_SECONDS = positiveInteger("timeout");

function positiveInteger(name) {
  const value = Number(options[name]);
  if (!Number.isInteger(value) || value < 1) {
    console.error(`--${name} must be a positive integer, not ${options[name]}`);
    process.exit(2);
  }
  return value;
}

const MEMORY_SAMPLE_MS = 250;
/** Idle time sampled before the load and after it, so start and end are not mid-request. */
const IDLE_SAMPLE_MS = 2_000;
/** RSS growth from the second to the last quarter of the load below which memory counts as flat. */
const FLAT_TOLERANCE = 0.1;

// ---------------------------------------------------------------------------------------------------
// Inputs

const BUCKET = "demo";
const KEYS = {
  photo: "load/photo-1024x768.jpg",
  bigPhoto: "load/photo-2048x1536.jpg",
  transparent: "load/transparent-640x480.png",
  animated: "load/animated-320x240.gif",
  logo: "load/logo.png",
};

/** RGBA pixels of the scene at `width` x `height` with `alpha(x, y)` as the alpha channel. */
function sceneWithAlpha(width, height, alpha) {
  const rgb = renderScene(width, height);
  const rgba = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      rgb.copy(rgba, p * 4, p * 3, p * 3 + 3);
      rgba[p * 4 + 3] = alpha(x, y);
    }
  }
  return rgba;
}

/** A photo cut out as an ellipse that fades to transparent towards the edges. */
async function transparentPng(width, height) {
  const pixels = sceneWithAlpha(width, height, (x, y) => {
    const dx = (x - width / 2) / (width / 2);
    const dy = (y - height / 2) / (height / 2);
    const distance = Math.sqrt(dx * dx + dy * dy);
    return Math.round(255 * Math.min(1, Math.max(0, (1 - distance) * 3)));
  });
  return sharp(pixels, { raw: { width, height, channels: 4 } })
    .png()
    .toBuffer();
}

/** A small half-transparent badge for the watermark requests. */
async function logoPng(width, height) {
  const pixels = Buffer.alloc(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    const x = p % width;
    const border = x < 4 || x >= width - 4 || p < width * 4 || p >= width * (height - 4);
    pixels.set(border ? [255, 255, 255, 230] : [230, 90, 20, 160], p * 4);
  }
  return sharp(pixels, { raw: { width, height, channels: 4 } })
    .png()
    .toBuffer();
}

/** An animated GIF: the scene with a disc moving across it, one position per frame. */
async function animatedGif(width, height, frames) {
  const scene = renderScene(width, height);
  const pixels = Buffer.alloc(width * height * 3 * frames);
  const radius = height / 6;
  for (let frame = 0; frame < frames; frame++) {
    const offset = frame * width * height * 3;
    scene.copy(pixels, offset);
    const cx = ((frame + 0.5) / frames) * width;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if ((x - cx) ** 2 + (y - height / 2) ** 2 > radius ** 2) continue;
        pixels.set([220, 30, 40], offset + (y * width + x) * 3);
      }
    }
  }
  return sharp(pixels, { raw: { width, height: height * frames, channels: 3, pageHeight: height } })
    .gif({ delay: new Array(frames).fill(100), loop: 0 })
    .toBuffer();
}

/** The uploads, by key: bytes and Content-Type. */
async function makeInputs() {
  return new Map([
    [KEYS.photo, { bytes: (await photoJpeg(WORK_DIR, 1024, 768)).bytes, type: "image/jpeg" }],
    [KEYS.bigPhoto, { bytes: (await photoJpeg(WORK_DIR, 2048, 1536)).bytes, type: "image/jpeg" }],
    [KEYS.transparent, { bytes: await transparentPng(640, 480), type: "image/png" }],
    [KEYS.animated, { bytes: await animatedGif(320, 240, 8), type: "image/gif" }],
    [KEYS.logo, { bytes: await logoPng(120, 48), type: "image/png" }],
  ]);
}

async function uploadInputs(inputs) {
  const local = await openLocalBuckets(STATE_DIR);
  try {
    const bucket = await local.bucket(BUCKET);
    for (const [key, { bytes, type }] of inputs) {
      // A plain Uint8Array copy: Miniflare's R2 binding rejects a Node Buffer.
      await bucket.put(key, new Uint8Array(bytes), { httpMetadata: { contentType: type } });
    }
  } finally {
    await local.dispose();
  }
}

// ---------------------------------------------------------------------------------------------------
// The request mix. Each request carries what it must get back: a status, and the Content-Type of an
// image or the OSS error code of an error.

const processed = (key, process) => `/${BUCKET}/${key}?x-oss-process=image/${process}`;
const image = (group, key, process, type) => ({ group, path: processed(key, process), status: 200, type });
const LOGO = Buffer.from(KEYS.logo).toString("base64url");

/**
 * The few popular variants, requested again and again: served from the cache after the warm-up. None
 * of them is a process string MISS_TEMPLATES can produce (they resize by height, or crop or resize a
 * source in a form no template uses), or a "miss" would be a legitimate cache hit.
 */
const POPULAR = [
  image("hit", KEYS.photo, "resize,h_150", "image/jpeg"),
  image("hit", KEYS.bigPhoto, "resize,h_300/format,webp", "image/webp"),
  image("hit", KEYS.photo, "crop,w_300,h_300,g_center", "image/jpeg"),
  image("hit", KEYS.transparent, "resize,w_160", "image/png"),
  image("hit", KEYS.animated, "resize,h_80", "image/gif"),
];

/**
 * Variants never asked before: `n` grows with every miss (across rounds too), and each template puts
 * it into a parameter, so no two misses share a cache key.
 */
const MISS_TEMPLATES = [
  (n) => image("miss", KEYS.photo, `resize,w_${100 + n}`, "image/jpeg"),
  (n) => image("miss", KEYS.bigPhoto, `resize,w_${200 + n}/format,webp`, "image/webp"),
  (n) => image("miss", KEYS.bigPhoto, `crop,w_${600 + n},h_400,g_center/resize,w_300`, "image/jpeg"),
  (n) => image("miss", KEYS.photo, `resize,m_fill,w_160,h_${100 + n}/format,png`, "image/png"),
  (n) => image("miss", KEYS.transparent, `resize,w_${120 + n}/format,webp`, "image/webp"),
  (n) => image("miss", KEYS.animated, `resize,w_${40 + n}`, "image/gif"),
  (n) =>
    image("miss", KEYS.photo, `resize,w_${300 + n}/watermark,image_${LOGO},g_se,x_10,y_10`, "image/jpeg"),
  (n) => image("miss", KEYS.bigPhoto, `resize,w_${200 + n}/interlace,1`, "image/jpeg"),
  (n) => image("miss", KEYS.photo, `resize,w_${80 + n}/format,avif`, "image/avif"),
  (n) => image("miss", KEYS.transparent, `rotate,${(n * 37) % 360}/resize,w_${150 + n}`, "image/png"),
];

const ERROR_TEMPLATES = [
  () => ({
    group: "unknown action",
    path: processed(KEYS.photo, "frobnicate,w_100"),
    status: 400,
    code: "InvalidArgument",
  }),
  (n) => ({
    group: "missing object",
    path: processed(`load/missing-${n}.jpg`, "resize,w_100"),
    status: 404,
    code: "NoSuchKey",
  }),
  () => ({
    group: "out of range",
    path: processed(KEYS.photo, "resize,w_20000"),
    status: 400,
    code: "InvalidArgument",
  }),
  () => ({
    group: "out of range",
    path: processed(KEYS.photo, "blur,r_51,s_2"),
    status: 400,
    code: "InvalidArgument",
  }),
];

/** Per ten requests: five hits, three misses, two errors, interleaved. */
const KIND_CYCLE = ["hit", "miss", "hit", "error", "hit", "miss", "hit", "miss", "hit", "error"];
const GROUPS = ["hit", "miss", "unknown action", "missing object", "out of range"];

/**
 * The sequence of requests: the same on every run. Connections take the next request when they are
 * free, so which connection sends which request varies, but not what is sent.
 */
function requestPlan() {
  let sent = 0;
  const counters = { hit: 0, miss: 0, error: 0 };
  return () => {
    const kind = KIND_CYCLE[sent++ % KIND_CYCLE.length];
    const n = counters[kind]++;
    if (kind === "hit") return POPULAR[n % POPULAR.length];
    if (kind === "miss") {
      const template = MISS_TEMPLATES[n % MISS_TEMPLATES.length];
      return template(Math.floor(n / MISS_TEMPLATES.length));
    }
    return ERROR_TEMPLATES[n % ERROR_TEMPLATES.length](n);
  };
}

/** What is wrong with a response to `expected`, or undefined when it is what the request expects. */
function problemWith(expected, status, body, headers) {
  if (status !== expected.status) {
    return `status ${status}, expected ${expected.status}${expected.code ? ` ${expected.code}` : ""}`;
  }
  if (expected.code) {
    const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
    if (code !== expected.code) return `error code ${code}, expected ${expected.code}`;
    return undefined;
  }
  if (headers["content-type"] !== expected.type) {
    return `Content-Type ${headers["content-type"]}, expected ${expected.type}`;
  }
  // A variant never requested before can only come from processing; a cache hit would mean two
  // different variants share a cache key.
  if (expected.group === "miss" && headers["x-cache"] !== "MISS") {
    return `X-Cache ${headers["x-cache"]}, expected MISS for a variant never requested before`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// Running the load

/** Sends `amount` requests from the plan over `connections` connections; returns what was seen. */
async function loadRound(base, nextRequest, registerStop) {
  const byGroup = new Map(GROUPS.map((group) => [group, { statuses: {}, cache: {}, latencies: [] }]));
  const failures = [];
  /** Requests sent and not yet answered, by sequence number: what is left at the end got no answer. */
  const unanswered = new Map();
  let sequence = 0;

  const instance = autocannon({
    url: base,
    connections: CONNECTIONS,
    amount: AMOUNT,
    timeout: TIMEOUT_SECONDS,
    requests: [
      {
        // Called once per request sent, right before it is written; the context belongs to the
        // connection and to this request until its response, since each connection has one request
        // in flight (no pipelining).
        setupRequest(request, context) {
          const expected = nextRequest();
          context.sent = { sequence: sequence++, expected, at: performance.now() };
          unanswered.set(context.sent.sequence, expected);
          request.path = expected.path;
          return request;
        },
        onResponse(status, body, context, rawHeaders) {
          const { sequence: number, expected, at } = context.sent;
          unanswered.delete(number);
          const headers = Object.fromEntries(
            Object.entries(rawHeaders).map(([name, value]) => [name.toLowerCase(), String(value)]),
          );
          const seen = byGroup.get(expected.group);
          seen.statuses[status] = (seen.statuses[status] ?? 0) + 1;
          if (headers["x-cache"]) seen.cache[headers["x-cache"]] = (seen.cache[headers["x-cache"]] ?? 0) + 1;
          seen.latencies.push(performance.now() - at);
          const problem = problemWith(expected, status, body, headers);
          if (problem) {
            failures.push({
              path: expected.path,
              problem,
              requestId: headers["x-oss-request-id"],
              // Error bodies are OSS's XML; an image's bytes are not worth printing.
              body: /xml|json|text/.test(headers["content-type"] ?? "") ? body.slice(0, 300) : undefined,
            });
          }
        },
      },
    ],
  });
  registerStop(() => instance.stop());
  const progress = process.stdout.isTTY
    ? setInterval(() => process.stdout.write(`\r  ${sequence - unanswered.size}/${AMOUNT} answered`), 1000)
    : undefined;
  try {
    const result = await instance;
    for (const expected of unanswered.values()) {
      failures.push({ path: expected.path, problem: "no response (timeout or connection error)" });
    }
    return { result, byGroup, failures };
  } finally {
    clearInterval(progress);
    if (progress) process.stdout.write("\r\x1b[K");
  }
}

/** Requests each popular variant until it is served from the cache (written in waitUntil). */
async function warmPopular(base) {
  for (const expected of POPULAR) {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const response = await fetch(base + expected.path, { signal: AbortSignal.timeout(30_000) });
      await response.arrayBuffer();
      if (response.status !== 200) {
        throw new Error(`warm-up: GET ${expected.path} returned ${response.status}`);
      }
      if (response.headers.get("x-cache") === "HIT") break;
      if (Date.now() > deadline) throw new Error(`warm-up: GET ${expected.path} never became X-Cache: HIT`);
      await sleep(100);
    }
  }
}

/**
 * Samples VmRSS/VmHWM of `pid` every MEMORY_SAMPLE_MS, each sample tagged with the current phase.
 * Calls `onLost` once if the process goes away (a crash, or wrangler restarting it).
 */
function sampleMemory(pid, onLost) {
  const started = performance.now();
  const samples = [];
  let phase = "idle";
  let lost;
  const take = () => {
    if (lost) return;
    try {
      const memory = memoryOf(pid);
      // An exited process that is not reaped yet still has a status file, without memory figures.
      if (!Number.isFinite(memory.rss)) throw new Error(`workerd (pid ${pid}) has exited`);
      samples.push({ at: performance.now() - started, phase, ...memory });
    } catch (error) {
      lost = error.message;
      onLost();
    }
  };
  take();
  const timer = setInterval(take, MEMORY_SAMPLE_MS);
  return {
    samples,
    enter(next) {
      take();
      phase = next;
      take();
    },
    stop() {
      take();
      clearInterval(timer);
      return lost;
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Report

const MiB = 1024 * 1024;
const fmtMiB = (bytes) => `${(bytes / MiB).toFixed(1)} MiB`;
const fmtMs = (ms) => `${Math.round(ms)} ms`;

function quantile(values, q) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function printTable(headers, rows) {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => row[i].length)));
  const line = (cells) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i])));
  console.log(`  ${line(headers).join("  ")}`);
  for (const row of rows) console.log(`  ${line(row).join("  ")}`);
}

const counts = (record) =>
  Object.entries(record)
    .map(([value, count]) => `${value}×${count}`)
    .join(" ") || "-";

function printRound(round, { result, byGroup, failures }) {
  const answered = result.latency.totalCount;
  console.log(
    `\nRound ${round}: ${result.requests.sent} requests sent over ${CONNECTIONS} connections in ` +
      `${result.duration.toFixed(1)} s, ${answered} answered: ${(answered / result.duration).toFixed(1)} req/s`,
  );
  const { p50, p90, p99, max } = result.latency;
  console.log(`  latency (autocannon): p50 ${p50} ms, p90 ${p90} ms, p99 ${p99} ms, max ${max} ms`);
  console.log(
    `  autocannon counted: ${result.errors} errors (of which ${result.timeouts} timeouts), ` +
      `status classes 2xx ${result["2xx"]}, 4xx ${result["4xx"]}, 5xx ${result["5xx"]}`,
  );
  printTable(
    ["requests", "sent", "statuses", "X-Cache", "p50", "p90", "p99", "max"],
    [...byGroup].map(([group, seen]) => [
      group,
      String(seen.latencies.length),
      counts(seen.statuses),
      counts(seen.cache),
      fmtMs(quantile(seen.latencies, 0.5)),
      fmtMs(quantile(seen.latencies, 0.9)),
      fmtMs(quantile(seen.latencies, 0.99)),
      fmtMs(Math.max(...seen.latencies)),
    ]),
  );
  console.log(`  failed requests: ${failures.length}`);
}

function printMemory(pid, samples) {
  const load = samples.filter((s) => s.phase.startsWith("round"));
  const at = (s) => `${(s.at / 1000).toFixed(1)} s`;
  const points = [];
  const firstOf = (phase) => samples.find((s) => s.phase === phase);
  const lastOf = (phase) => samples.findLast((s) => s.phase === phase);
  points.push(["idle, after start", firstOf("idle")]);
  points.push(["after the warm-up", lastOf("warm-up")]);
  for (let round = 1; round <= ROUNDS; round++) {
    const phase = samples.filter((s) => s.phase === `round ${round}`);
    for (const fraction of [0.25, 0.5, 0.75]) {
      points.push([`round ${round}, ${fraction * 100}%`, phase[Math.floor(fraction * (phase.length - 1))]]);
    }
    points.push([`round ${round}, end`, phase.at(-1)]);
  }
  points.push([`${IDLE_SAMPLE_MS / 1000} s after the load`, lastOf("after")]);

  console.log(
    `\nWorker workerd memory (pid ${pid}), ${samples.length} samples every ${MEMORY_SAMPLE_MS} ms; ` +
      "VmHWM is the process-lifetime peak",
  );
  printTable(
    ["when", "time", "VmRSS", "VmHWM"],
    points.filter(([, s]) => s).map(([label, s]) => [label, at(s), fmtMiB(s.rss), fmtMiB(s.hwm)]),
  );
  if (load.length < 4) return; // too few samples under load to say more
  const peak = load.reduce((a, b) => (b.rss > a.rss ? b : a), load[0]);
  console.log(`  peak VmRSS under load: ${fmtMiB(peak.rss)} (${peak.phase}, ${at(peak)})`);
  for (let round = 1; round <= ROUNDS; round++) {
    const rss = samples.filter((s) => s.phase === `round ${round}`).map((s) => s.rss);
    if (rss.length === 0) continue;
    console.log(
      `  round ${round}: VmRSS median ${fmtMiB(quantile(rss, 0.5))}, peak ${fmtMiB(Math.max(...rss))}`,
    );
  }
  // RSS over the second quarter against the last quarter: of the whole load, and of the last round
  // alone, which is where a steady state shows (the first rounds include the heap growing to its
  // working size).
  const lastRound = samples.filter((s) => s.phase === load.at(-1).phase);
  const wholeLoad = quarterGrowth(load);
  console.log(`  whole load:  ${describeGrowth(wholeLoad)}`);
  if (lastRound.length >= 4 && lastRound.length < load.length) {
    console.log(`  ${load.at(-1).phase}: ${describeGrowth(quarterGrowth(lastRound))}`);
  }
}

/** Mean VmRSS over the second and the last quarter of `samples`, and the relative change. */
function quarterGrowth(samples) {
  const quarter = (index) =>
    mean(
      samples.slice(Math.floor((index * samples.length) / 4), Math.floor(((index + 1) * samples.length) / 4)),
    );
  const second = quarter(1);
  const last = quarter(3);
  return { second, last, growth: (last - second) / second };
}

function describeGrowth({ second, last, growth }) {
  const verdict =
    Math.abs(growth) <= FLAT_TOLERANCE
      ? `flat (within ±${FLAT_TOLERANCE * 100}%)`
      : growth > 0
        ? "GROWS"
        : "falls";
  return (
    `VmRSS mean over the second quarter ${fmtMiB(second)}, last quarter ${fmtMiB(last)} ` +
    `(${growth >= 0 ? "+" : ""}${(growth * 100).toFixed(1)}%): ${verdict}`
  );
}

const mean = (samples) => samples.reduce((sum, s) => sum + s.rss, 0) / samples.length;

/** The wrangler log lines of the Worker that mention `needle` (a request id or a logged path). */
function loggedLines(needle) {
  return readFileSync(WRANGLER_LOG, "utf8")
    .split("\n")
    .filter((line) => line.includes(needle));
}

/** How the Worker logs a path (src/log.ts loggablePath), to find a request that got no answer. */
const asLogged = (path) => {
  const [pathname, query] = path.split("?");
  return `${pathname}?${new URLSearchParams(query).toString()}`;
};

function printFailures(failures) {
  console.log(`\nFAILED requests: ${failures.length}; all of them in ${FAILURES_FILE.slice(ROOT.length)}`);
  writeFileSync(FAILURES_FILE, JSON.stringify(failures, null, 2));
  const byProblem = new Map();
  for (const { path, problem } of failures) {
    // The same problem on other variants of the same request: one line with a count.
    const what = `${path.replace(/\d+/g, "<n>")}: ${problem.replace(/\d+/g, "<n>")}`;
    byProblem.set(what, (byProblem.get(what) ?? 0) + 1);
  }
  for (const [what, count] of byProblem) console.log(`  ${count}× ${what}`);
  console.log("First failures, with what the Worker logged for them:");
  for (const failure of failures.slice(0, 10)) {
    console.log(`  GET ${failure.path}\n    ${failure.problem}`);
    if (failure.requestId) console.log(`    x-oss-request-id ${failure.requestId}`);
    if (failure.body) console.log(`    body: ${failure.body.replace(/\s+/g, " ")}`);
    const logged = loggedLines(failure.requestId ?? asLogged(failure.path));
    for (const line of logged.slice(0, 5)) console.log(`    log: ${line}`);
  }
  if (failures.length > 10) console.log(`  ... and ${failures.length - 10} more`);
}

// ---------------------------------------------------------------------------------------------------

async function main() {
  const cpus = os.cpus();
  console.log(
    `Machine: ${cpus[0]?.model ?? "unknown CPU"}, ${cpus.length} cores, ${os.platform()} ${os.release()}; Node ${process.version}`,
  );
  console.log(
    `Load: ${ROUNDS} round(s) of ${AMOUNT} requests over ${CONNECTIONS} connections (timeout ${TIMEOUT_SECONDS} s); ` +
      "per 10 requests 5 cache hits, 3 cache misses, 2 expected errors",
  );

  const inputs = await makeInputs();
  for (const [key, { bytes }] of inputs) console.log(`Input ${key}: ${(bytes.length / 1024).toFixed(1)} KiB`);
  rmSync(STATE_DIR, { recursive: true, force: true });
  rmSync(FAILURES_FILE, { force: true });
  await uploadInputs(inputs);

  const server = spawnDevServer({
    cwd: ROOT,
    config: snapshotWorker(ROOT, SNAPSHOT_DIR),
    port: await freePort(),
    stateDir: STATE_DIR,
    vars: {},
    logPath: WRANGLER_LOG,
  });
  let stopLoad = () => {};
  // wrangler runs in its own process group (see spawnDevServer), so Ctrl-C only reaches us.
  const stopOnSignal = (signal) => {
    interrupted = true;
    console.error(`\n${signal}: stopping the load and wrangler dev`);
    stopLoad();
    server.stop().finally(() => process.exit(130));
  };
  process.once("SIGINT", stopOnSignal);
  process.once("SIGTERM", stopOnSignal);
  process.once("exit", () => server.killNow());

  let memory;
  let workerdLost = false;
  try {
    await server.ready();
    const { workerd, proxy } = findWorkerRuntime(server);
    console.log(
      `Worker: wrangler dev at ${server.base}, Worker runtime workerd pid ${workerd}` +
        `${proxy ? ` (wrangler's proxy: workerd pid ${proxy})` : ""}; log in ${WRANGLER_LOG.slice(ROOT.length)}`,
    );
    memory = sampleMemory(workerd, () => {
      // Nothing measured after this is about the same process; stop and report.
      workerdLost = true;
      stopLoad();
    });
    await sleep(IDLE_SAMPLE_MS);
    memory.enter("warm-up");
    await warmPopular(server.base);

    const nextRequest = requestPlan();
    const failures = [];
    let sent = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      memory.enter(`round ${round}`);
      const outcome = await loadRound(server.base, nextRequest, (stop) => {
        stopLoad = stop;
      });
      if (interrupted) return;
      printRound(round, outcome);
      failures.push(...outcome.failures);
      sent += outcome.result.requests.sent;
      if (workerdLost) break;
    }
    memory.enter("after");
    await sleep(IDLE_SAMPLE_MS);
    const lostWorkerd = memory.stop();
    printMemory(workerd, memory.samples);

    // The Worker logs every 5xx and internal error at level "error" (src/log.ts).
    const workerErrors = loggedLines('"level":"error"');
    console.log(`\nTotal: ${sent} requests sent, ${failures.length} failed`);
    console.log(`Worker error log lines: ${workerErrors.length}`);
    for (const line of workerErrors.slice(0, 5)) console.log(`  ${line}`);
    if (lostWorkerd) {
      console.log(`\nThe load stopped early: ${lostWorkerd}.`);
      // wrangler dev rebuilds and restarts workerd when a file its bundler read changes; the
      // snapshot shields src/, but not package.json, tsconfig.json or node_modules of the repository.
      const reloads = loggedLines("Reloading local server");
      if (reloads.length > 0) {
        console.log(
          "wrangler dev reloaded the Worker during the run (a watched file changed: package.json, " +
            "tsconfig.json or node_modules were edited by something else). Requests in flight were cut " +
            "off, and responses cut mid-body can be misattributed by autocannon; run again.",
        );
      }
    }
    if (failures.length > 0) printFailures(failures);
    if (failures.length > 0 || workerErrors.length > 0 || lostWorkerd) process.exitCode = 1;
  } finally {
    memory?.stop();
    await server.stop();
  }
}

/** Set on Ctrl-C: the requests then in flight fail, and that is not worth reporting. */
let interrupted = false;

try {
  await main();
} catch (error) {
  if (!interrupted) {
    console.error(`\nload failed: ${error.stack}`);
    process.exitCode = 1;
  }
}
