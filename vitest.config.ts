import { existsSync, readdirSync, readFileSync } from "node:fs";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import sharp from "sharp";
import { configDefaults, defineConfig } from "vitest/config";
import { colourImages } from "./scripts/lib/colour-images.mjs";
import { fontFiles } from "./scripts/lib/fonts.mjs";
import { formatImages } from "./scripts/lib/format-images.mjs";
import { gifImages } from "./scripts/lib/gif-images.mjs";
import { heicSource, heifImages } from "./scripts/lib/heif-images.mjs";
import { hostileCorpus } from "./scripts/lib/hostile-corpus.mjs";
import { testImages } from "./scripts/lib/test-images.mjs";
import { webpImages } from "./scripts/lib/webp-images.mjs";

// Binary fixtures are read (committed ones) or generated (large ones, scripts/lib/test-images.mjs)
// here, in Node, and handed to the tests (which run inside workerd) as Base64.
const fixturesDir = new URL("./test/fixtures/", import.meta.url);
const fixtures = Object.fromEntries([
  ...readdirSync(fixturesDir, { withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map(({ name }) => [name, readFileSync(new URL(name, fixturesDir)).toString("base64")]),
  ...Object.entries(await testImages()).map(([name, bytes]) => [name, bytes.toString("base64")]),
  ...Object.entries(await colourImages()).map(([name, bytes]) => [name, bytes.toString("base64")]),
  ...Object.entries(await gifImages()).map(([name, bytes]) => [name, bytes.toString("base64")]),
]);

/**
 * Font files (megabytes each: Noto Sans SC from npm, Debian's when installed) reach the tests on
 * demand through a service binding run by Node: `env.TEST_FONTS.fetch("http://fonts/<FONTS key>")`.
 */
async function serveFont(request: Request): Promise<Response> {
  const name = new URL(request.url).pathname.slice(1);
  const path = (fontFiles() as Record<string, string>)[name];
  if (!path || !existsSync(path)) return new Response(`font ${name} is not installed`, { status: 404 });
  return new Response(readFileSync(path));
}

/**
 * PNG and TIFF sources of the format tests (scripts/lib/format-images.mjs): too many megabytes to
 * hand over as fixtures, so served on demand like the fonts: `env.TEST_FORMAT_IMAGES.fetch("http://images/<name>")`.
 */
const formatImageFiles = await formatImages();
function serveFormatImage(request: Request): Response {
  const bytes = formatImageFiles[new URL(request.url).pathname.slice(1)];
  return bytes ? new Response(bytes) : new Response("no such test image", { status: 404 });
}

/**
 * Large WebP sources (megabytes each; the provided fixtures travel in one message, which has a
 * size limit) reach the tests on demand the same way: `env.TEST_IMAGES.fetch("http://images/<name>")`.
 */
const webpImageFiles = { ...(await webpImages()) };
function serveImage(request: Request): Response {
  const bytes = webpImageFiles[new URL(request.url).pathname.slice(1)];
  return bytes ? new Response(bytes) : new Response("no such test image", { status: 404 });
}

/**
 * AVIF and HEIC test images (scripts/lib/heif-images.mjs, test/fixtures/*.heic) on demand, like the
 * fonts: `env.TEST_HEIF.fetch("http://heif/<name>")`, so they do not add to the provided fixtures,
 * which travel in one message of limited size.
 */
async function serveHeif(request: Request): Promise<Response> {
  const name = new URL(request.url).pathname.slice(1);
  // The picture the HEIC fixtures encode, at a size, turned a quarter clockwise or anticlockwise.
  const source = /^heic-source-(\d+)x(\d+)(-cw|-ccw)?\.png$/.exec(name);
  if (source) {
    const png = await heicSource({ width: Number(source[1]), height: Number(source[2]) });
    const turn = { "-cw": 90, "-ccw": 270 }[source[3] ?? ""];
    return new Response(turn ? await sharp(png).rotate(turn).png().toBuffer() : png);
  }
  const committed = new URL(`heic/${name}`, fixturesDir);
  const bytes = existsSync(committed) ? readFileSync(committed) : (await heifImages())[name];
  return bytes ? new Response(bytes) : new Response(`no test image ${name}`, { status: 404 });
}

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        serviceBindings: {
          TEST_FONTS: serveFont,
          TEST_FORMAT_IMAGES: serveFormatImage,
          TEST_IMAGES: serveImage,
          TEST_HEIF: serveHeif,
        },
        // Two key pairs, as during a key rotation (test/helpers.ts signs with them).
        bindings: {
          OSS_ACCESS_KEY_ID: "test-key-id,rotated-key-id",
          OSS_ACCESS_KEY_SECRET: "test-secret,rotated-secret",
        },
      },
    }),
  ],
  test: {
    // test/sdk and test/browser run in Node against `wrangler dev` (npm run test:sdk, npm run test:browser).
    exclude: [...configDefaults.exclude, "test/sdk/**", "test/browser/**"],
    provide: {
      fixtures,
      corpus: (await hostileCorpus()).map(({ name, bytes, expect }) => ({
        name,
        base64: bytes.toString("base64"),
        expect,
      })),
    },
    testTimeout: 30_000,
    // The Worker's structured request logs (src/log.ts) would bury the test report; test/hardening
    // checks them through console spies instead.
    onConsoleLog: (log) => !log.startsWith('{"time":'),
  },
});
