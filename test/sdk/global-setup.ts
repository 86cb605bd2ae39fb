// Global setup of the SDK tests (vitest.sdk.config.ts): runs the Worker once in `wrangler dev` on a
// free port, with a fresh local state in a temporary folder and test-only credentials, and stops it
// when the run ends. The tests reach it over HTTP with the real `ali-oss` client.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { openLocalBuckets } from "../../scripts/lib/buckets.mjs";
import { startDevServerForTests } from "../../scripts/lib/dev-server.mjs";
import type { Credential, SdkTestContext } from "./context";
import { quadrantsJpeg } from "./images";

const ROOT = new URL("../../", import.meta.url).pathname;
/** The Worker copy and the wrangler log (git-ignored); the log stays for a look after a failure. */
const WORK_DIR = join(ROOT, ".wrangler", "sdk-test");

/** Two key pairs, as during a key rotation: the server accepts both. Test-only values. */
const CREDENTIALS: Credential[] = [
  { accessKeyId: "sdk-test-key-id", accessKeySecret: "sdk-test-key-secret" },
  { accessKeyId: "sdk-rotated-key-id", accessKeySecret: "sdk-rotated-key-secret" },
];

const SEEDED = { key: "seed/quadrants.jpg", width: 160, height: 120 };

const READY_TIMEOUT_MS = 120_000;

/** Loads one JPEG into `demo` and `demo-private`, so reads work before any PutObject does. */
async function seed(stateDir: string): Promise<void> {
  const jpeg = new Uint8Array(await quadrantsJpeg(SEEDED.width, SEEDED.height));
  const local = await openLocalBuckets(stateDir);
  try {
    for (const name of ["demo", "demo-private"]) {
      const bucket = await local.bucket(name);
      await bucket.put(SEEDED.key, jpeg, { httpMetadata: { contentType: "image/jpeg" } });
    }
  } finally {
    await local.dispose();
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stateDir = mkdtempSync(join(tmpdir(), "oss-sdk-test-"));
  await seed(stateDir);

  const { server, teardown } = await startDevServerForTests({
    root: ROOT,
    workDir: WORK_DIR,
    stateDir,
    vars: {
      OSS_ACCESS_KEY_ID: CREDENTIALS.map((c) => c.accessKeyId).join(","),
      OSS_ACCESS_KEY_SECRET: CREDENTIALS.map((c) => c.accessKeySecret).join(","),
    },
    readyTimeoutMs: READY_TIMEOUT_MS,
    label: "SDK tests",
  });

  const port = Number(new URL(server.base).port);
  const context: SdkTestContext = { baseUrl: server.base, port, credentials: CREDENTIALS, seeded: SEEDED };
  project.provide("sdk", context);
  return teardown;
}
