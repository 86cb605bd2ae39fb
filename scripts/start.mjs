// npm start: loads samples/ into the local `demo` bucket, then runs the Worker in the real Workers
// runtime (wrangler dev, workerd) on 127.0.0.1:$PORT (default 8787) with local R2 in .wrangler/state.
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openLocalBuckets, STATE_DIR } from "./lib/buckets.mjs";
import { fontFiles } from "./lib/fonts.mjs";
import { seed } from "./seed.mjs";

const port = Number(process.env.PORT ?? 8787);
const base = `http://127.0.0.1:${port}`;

const samples = new URL("../samples/", import.meta.url).pathname;
const count = await seed(samples, "demo", { quiet: true });
await seed(samples, "demo-auto", { quiet: true });
console.log(
  `Loaded ${count} sample images into the local buckets "demo" and "demo-auto" (format negotiation).`,
);
await loadStyles(JSON.parse(readFileSync(new URL("./dev-styles.json", import.meta.url), "utf8")));
await loadFonts();

/** Text watermarks draw with fonts kept in the FONTS bucket (scripts/lib/fonts.mjs). */
async function loadFonts() {
  const fonts = fontFiles();
  const local = await openLocalBuckets();
  try {
    const store = await local.bucket("oss-fonts");
    for (const [name, path] of Object.entries(fonts)) {
      const size = statSync(path).size;
      if ((await store.head(name))?.size !== size) await store.put(name, new Uint8Array(readFileSync(path)));
    }
  } finally {
    await local.dispose();
  }
  console.log(`Loaded fonts for text watermarks: ${Object.keys(fonts).join(", ")}.`);
}

/** Styles live in the STYLES bucket as `<bucket>/<name>` (see src/styles.ts). */
async function loadStyles(stylesByBucket) {
  const local = await openLocalBuckets();
  try {
    const store = await local.bucket("oss-styles");
    for (const [bucket, styles] of Object.entries(stylesByBucket)) {
      for (const [name, content] of Object.entries(styles)) await store.put(`${bucket}/${name}`, content);
      console.log(`Loaded styles for "${bucket}": ${Object.keys(styles).join(", ")}.`);
    }
  } finally {
    await local.dispose();
  }
}

// Access keys pass through from the environment; without them, documented development defaults.
// They reach wrangler in an env file so that its startup banner does not print the secret.
const DEV_ACCESS_KEY_ID = "dev-access-key-id";
const DEV_ACCESS_KEY_SECRET = "dev-access-key-secret";
const keysFile = join(STATE_DIR, "access-keys.env");
mkdirSync(STATE_DIR, { recursive: true });
writeFileSync(
  keysFile,
  `OSS_ACCESS_KEY_ID=${process.env.OSS_ACCESS_KEY_ID ?? DEV_ACCESS_KEY_ID}\n` +
    `OSS_ACCESS_KEY_SECRET=${process.env.OSS_ACCESS_KEY_SECRET ?? DEV_ACCESS_KEY_SECRET}\n`,
  { mode: 0o600 },
);
if (!process.env.OSS_ACCESS_KEY_ID) {
  console.log(`Signed requests use the development key ${DEV_ACCESS_KEY_ID} / ${DEV_ACCESS_KEY_SECRET}.`);
}

const wrangler = spawn(
  "npx",
  [
    "wrangler",
    "dev",
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--persist-to",
    STATE_DIR,
    "--env-file",
    keysFile,
    // The playground page (src/playground/) is for local development; wrangler.toml leaves it off.
    "--var",
    "PLAYGROUND:on",
  ],
  { stdio: "inherit", env: { WRANGLER_SEND_METRICS: "false", ...process.env } },
);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => wrangler.kill(signal));
wrangler.on("exit", (code) => process.exit(code ?? 0));

const EXAMPLES = [
  "/demo/sample.jpg",
  "/demo/sample.jpg?x-oss-process=image/resize,w_200/interlace,1",
  "/demo/sample.jpg?x-oss-process=image/resize,m_fill,w_300,h_300/format,webp",
  "/demo/sample.jpg?x-oss-process=image/crop,w_400,h_300,g_center/rotate,30/format,png",
  "/demo/sideways-exif6.jpg?x-oss-process=image/resize,h_200",
  "/demo/sideways-exif6.jpg?x-oss-process=image/auto-orient,0/resize,h_200",
  "/demo/logo.png?x-oss-process=image/resize,m_pad,w_300,h_200,color_FF0000",
  "/demo/sample.webp?x-oss-process=image/resize,p_50/format,avif",
  "/demo/sample.jpg?x-oss-process=image/quality,q_60/format,jpg",
  "/demo/sample.jpg?x-oss-process=image/indexcrop,x_256,i_1",
  "/demo/sample.jpg?x-oss-process=image/resize,w_300/circle,r_100/format,png",
  "/demo/sample.jpg?x-oss-process=image/resize,m_fill,w_200,h_200/rounded-corners,r_40/format,png",
  "/demo/sample.jpg?x-oss-process=image/resize,w_400/blur,r_10,s_5",
  "/demo/sample.jpg?x-oss-process=image/resize,w_400/bright,40/contrast,30/sharpen,150",
  "/demo/sample.jpg?x-oss-process=image/resize,w_600/watermark,image_bG9nby5wbmc_eC1vc3MtcHJvY2Vzcz1pbWFnZS9yZXNpemUsUF8yMA,t_80",
  "/demo/sample.jpg?x-oss-process=image/resize,w_600/watermark,text_b3NzLWltYWdlLXdvcmtlciDmsLTljbA,type_d3F5LW1pY3JvaGVp,color_FFFFFF,size_36,shadow_60,g_sw",
  "/demo/animated.gif?x-oss-process=image/resize,w_120",
  "/demo/sample.jpg?x-oss-process=image/format,bmp",
  "/demo/sample.jpg?x-oss-process=image/average-hue",
  "/demo/sample.jpg?x-oss-process=image/info",
  "/demo/sample.jpg?x-oss-process=style/thumb",
  "/demo/sample.jpg!small-webp",
  // demo-auto negotiates: a browser that accepts AVIF or WebP gets it (Vary: Accept).
  "/demo-auto/sample.jpg?x-oss-process=image/resize,w_400",
];

async function waitUntilReady() {
  for (let attempt = 0; attempt < 120; attempt++) {
    try {
      await fetch(`${base}/demo/sample.jpg`, { method: "HEAD" });
      return true;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  return false;
}

if (await waitUntilReady()) {
  console.log(`\nOSS image processing is serving local R2 at ${base}. Try:\n`);
  for (const path of EXAMPLES) console.log(`  ${base}${path}`);
  console.log(`\nPlayground (build process strings, compare results): ${base}/_playground`);
  console.log("\nAdd your own images with: npm run seed -- <folder> [--bucket <name>]\n");
}
