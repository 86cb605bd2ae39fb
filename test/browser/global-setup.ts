// Global setup of the browser tests (vitest.browser.config.ts): loads a few objects into `demo` in a
// fresh local state, runs the Worker once in `wrangler dev` with PLAYGROUND=on on a free port, and
// stops it when the run ends. The tests drive Chromium against it.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { openLocalBuckets } from "../../scripts/lib/buckets.mjs";
import { startDevServerForTests } from "../../scripts/lib/dev-server.mjs";
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
  const stateDir = mkdtempSync(join(tmpdir(), "oss-browser-test-"));
  await seed(stateDir);

  const { server, teardown } = await startDevServerForTests({
    root: ROOT,
    workDir: WORK_DIR,
    stateDir,
    vars: { PLAYGROUND: "on" },
    readyTimeoutMs: READY_TIMEOUT_MS,
    label: "Browser tests",
  });

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
