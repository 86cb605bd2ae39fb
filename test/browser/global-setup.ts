// Global setup of the browser tests (vitest.browser.config.ts): loads a few objects into `demo` in a
// fresh local state, runs the Worker once in `wrangler dev` with PLAYGROUND=on on a free port, and
// stops it when the run ends. The tests drive Chromium against it.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { openLocalBuckets } from "../../scripts/lib/buckets.mjs";
import { freePort, snapshotWorker, spawnDevServer } from "../../scripts/lib/dev-server.mjs";
import type { BrowserTestContext } from "./context";
import { logoPng, quadrantsJpeg } from "./images";

const ROOT = new URL("../../", import.meta.url).pathname;
/** The Worker copy and the wrangler log (git-ignored); the log stays for a look after a failure. */
const WORK_DIR = join(ROOT, ".wrangler", "browser-test");

const BUCKET = "demo";
const PHOTO = { key: "playground/quadrants.jpg", width: 400, height: 300 };
const LOGO = { key: "playground/logo.png" };
const NOT_IMAGE = { key: "playground/notes.txt" };

const READY_TIMEOUT_MS = 120_000;

function tail(path: string, lines = 40): string {
  if (!existsSync(path)) return "(no log)";
  return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
}

async function seed(stateDir: string): Promise<void> {
  const local = await openLocalBuckets(stateDir);
  try {
    const bucket = await local.bucket(BUCKET);
    const jpeg = new Uint8Array(await quadrantsJpeg(PHOTO.width, PHOTO.height));
    await bucket.put(PHOTO.key, jpeg, { httpMetadata: { contentType: "image/jpeg" } });
    const png = new Uint8Array(await logoPng(48));
    await bucket.put(LOGO.key, png, { httpMetadata: { contentType: "image/png" } });
    await bucket.put(NOT_IMAGE.key, "not an image", { httpMetadata: { contentType: "text/plain" } });
  } finally {
    await local.dispose();
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  mkdirSync(WORK_DIR, { recursive: true });
  const stateDir = mkdtempSync(join(tmpdir(), "oss-browser-test-"));
  const logPath = join(WORK_DIR, "wrangler.log");
  await seed(stateDir);

  const port = await freePort();
  const server = spawnDevServer({
    cwd: ROOT,
    // A copy of src/: edits made while the tests run do not make wrangler reload halfway.
    config: snapshotWorker(ROOT, join(WORK_DIR, "worker")),
    port,
    stateDir,
    vars: { PLAYGROUND: "on" },
    logPath,
  });
  // wrangler runs in a process group of its own; never leave it behind, whatever ends this process.
  const killNow = () => {
    server.killNow();
    rmSync(stateDir, { recursive: true, force: true });
  };
  process.once("exit", killNow);

  const teardown = async () => {
    process.off("exit", killNow);
    await server.stop();
    rmSync(stateDir, { recursive: true, force: true });
  };

  try {
    await server.ready(READY_TIMEOUT_MS);
  } catch (error) {
    await teardown();
    throw new Error(`${(error as Error).message}\nLast lines of ${logPath}:\n${tail(logPath)}`);
  }
  console.log(`Browser tests: wrangler dev at ${server.base} (log: ${logPath.slice(ROOT.length)})`);

  const context: BrowserTestContext = {
    baseUrl: server.base,
    bucket: BUCKET,
    photo: PHOTO,
    logo: LOGO,
    notImage: NOT_IMAGE,
  };
  project.provide("browser", context);
  return teardown;
}
