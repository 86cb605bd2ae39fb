import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ENGINE_MEMORY_BYTES, engineStatus, resetEnginePeak } from "../src/engine/instance";
import { readHeader } from "../src/image/header";
import type { Raster } from "../src/image/raster";
import { decoded, decodeFile, ossError, planOf, process, psnr, request, upload } from "./helpers";

const MiB = 1024 * 1024;
const HEAVY = { timeout: 300_000 };
const BUDGET = 96 * MiB;

/** A committed HEIC fixture (test/fixtures/heic, scripts/make-heic-fixtures.mjs) or its source picture. */
async function fixture(name: string): Promise<Uint8Array> {
  // The binding's connection to Node can drop while a long synchronous engine call blocks the
  // isolate ("Network connection lost"): ask once more.
  const fetchOnce = () => env.TEST_HEIF.fetch(`http://heif/${name}`);
  const response = await fetchOnce().catch(fetchOnce);
  if (!response.ok) throw new Error(await response.text());
  return new Uint8Array(await response.arrayBuffer());
}

const source = async (width: number, height: number, turned: "" | "-cw" | "-ccw" = ""): Promise<Raster> =>
  decodeFile(await fixture(`heic-source-${width}x${height}${turned}.png`));

const planFor = (bytes: Uint8Array, value: string) => planOf(bytes, value, BUDGET).estimatedBytes;

/** The mean colour of each of the colour test's six 48x48 patches (their 32x32 middles). */
function patchMeans(image: Raster): number[][] {
  return Array.from({ length: 6 }, (_, patch) => {
    const sum = [0, 0, 0];
    for (let y = 8; y < 40; y++) {
      for (let x = patch * 48 + 8; x < patch * 48 + 40; x++) {
        for (let c = 0; c < 3; c++) sum[c] += image.data[(y * image.width + x) * 4 + c];
      }
    }
    return sum.map((value) => value / (32 * 32));
  });
}

/** Mean absolute difference per channel between two sets of patch colours. */
function meanDifference(a: number[][], b: number[][]): number {
  let total = 0;
  for (let i = 0; i < a.length; i++) for (let c = 0; c < 3; c++) total += Math.abs(a[i][c] - b[i][c]);
  return total / (a.length * 3);
}

describe("HEIC in the engine", () => {
  // libheif's own decode of each file scores 37.5 and 40.7 dB against the source (the fixture script).
  for (const [name, minimum] of [
    ["photo.heic", 37],
    ["photo-444.heic", 40],
    ["photo-10bit.heic", 37],
  ] as const) {
    it(`${name}: the source picture, as closely as libheif decodes it`, { timeout: 120_000 }, async () => {
      const bytes = await fixture(name);
      const path = await upload(name, bytes);
      resetEnginePeak();
      const image = await decoded(await process(path, "image/format,png"));
      expect(engineStatus().peakBytes).toBeLessThanOrEqual(planFor(bytes, "image/format,png"));
      expect(image.format).toBe("png");
      const quality = psnr(image, await source(640, 480));
      console.log(`${name}: PSNR ${quality.toFixed(2)}`);
      expect(quality).toBeGreaterThan(minimum);
    });
  }

  it(
    "decodes a grid of 512x512 tiles, its output cropped, and applies irot (even with auto-orient,0)",
    { timeout: 120_000 },
    async () => {
      const bytes = await fixture("grid-rotated.heic");
      const header = readHeader(bytes);
      expect([header.format, header.width, header.height, header.heif?.image.grid]).toEqual([
        "heic",
        1400,
        1000,
        true,
      ]);
      const path = await upload("grid.heic", bytes);
      const reference = await source(1400, 1000, "-cw");
      for (const value of ["image/format,png", "image/auto-orient,0/format,png"]) {
        const image = await decoded(await process(path, value));
        expect([image.width, image.height], value).toEqual([1000, 1400]);
        const quality = psnr(image, reference);
        console.log(`grid ${value}: PSNR ${quality.toFixed(2)}`);
        expect(quality, value).toBeGreaterThan(39);
      }
    },
  );

  it(
    "answers a HEIC without format as JPEG (Decision 1), and refuses format,heic by name",
    { timeout: 120_000 },
    async () => {
      const path = await upload("photo.heic", await fixture("photo.heic"));
      const image = await decoded(await process(path, "image/resize,w_320"));
      expect([image.format, image.width, image.height]).toEqual(["jpg", 320, 240]);
      const refused = await ossError(await process(path, "image/format,heic"));
      expect(refused.status).toBe(400);
      expect(refused.message).toContain("heic");
    },
  );

  it(
    "answers a 12 MP grid HEIC's thumbnail, 1080 px and full-size JPEG a tile row at a time, within the plan",
    HEAVY,
    async () => {
      const bytes = await fixture("grid-12mp.heic");
      const path = await upload("phone.heic", bytes);
      const full = await source(4032, 3024);
      for (const [value, size] of [
        ["image/resize,w_200", [200, 150]],
        ["image/resize,w_1080/quality,q_80", [1080, 810]],
        ["image/format,jpg", [4032, 3024]],
      ] as const) {
        resetEnginePeak();
        const response = await process(path, value);
        const image = await decoded(response);
        expect([image.format, image.width, image.height], value).toEqual(["jpg", ...size]);
        const estimate = planFor(bytes, value);
        const peak = engineStatus().peakBytes;
        console.log(`${value}: estimate ${estimate} peak ${peak}`);
        expect(peak, `${value}: peak ${peak} against estimate ${estimate}`).toBeLessThanOrEqual(estimate);
        expect(estimate, `${value}: estimate ${estimate} against peak ${peak}`).toBeLessThanOrEqual(
          peak * 1.35 + 2 * MiB,
        );
        if (value === "image/resize,w_200") {
          // A tile row of samples (4032 x 512 at 1.5 bytes) and one tile's decoder, not a 12 MP frame.
          expect(peak).toBeLessThan(12 * MiB);
        }
        if (value === "image/format,jpg") {
          const quality = psnr(image, full);
          console.log(`12 MP full size: PSNR ${quality.toFixed(2)}`);
          expect(quality).toBeGreaterThan(36);
        }
      }
      expect(engineStatus().memoryBytes).toBeLessThanOrEqual(ENGINE_MEMORY_BYTES);
    },
  );

  it("reports a HEIC's size in info", async () => {
    const path = await upload("grid.heic", await fixture("grid-rotated.heic"));
    const response = await request(`${path}?x-oss-process=image/info`);
    const info = (await response.json()) as Record<string, { value: string }>;
    expect([info.Format.value, info.ImageWidth.value, info.ImageHeight.value]).toEqual([
      "heic",
      "1400",
      "1000",
    ]);
  });
  it("converts a Display P3 profile (colr prof) to sRGB, as sharp does", { timeout: 120_000 }, async () => {
    const bytes = await fixture("colour-p3.heic");
    expect(readHeader(bytes).iccBytes).toBeGreaterThan(400);
    const path = await upload("p3", bytes);
    const expected = patchMeans(await decodeFile(await fixture("colour-p3-srgb.png")));
    for (const format of ["png", "jpg"]) {
      const image = await decoded(await process(path, `image/format,${format}`));
      const difference = meanDifference(patchMeans(image), expected);
      expect(difference, `${format}: ${JSON.stringify(patchMeans(image))}`).toBeLessThanOrEqual(3);
    }
  });
});

describe("damaged HEIC", () => {
  it(
    "answers 400 for a cut, a garbled and an emptied file, and serves the next request",
    { timeout: 120_000 },
    async () => {
      const bytes = await fixture("grid-rotated.heic");
      const text = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
      const mdat = bytes.findIndex((_, i) => text(i) === "mdat");
      const hvcC = bytes.findIndex((_, i) => text(i) === "hvcC");
      const garbled = bytes.slice();
      // Every tile's first NAL units (its slice header) garbled: tiles start after the grid description.
      for (let i = mdat + 4 + 8 + 4; i < mdat + 4 + 8 + 40; i++) garbled[i] ^= 0xff;
      const noConfig = bytes.slice();
      noConfig.set([0x78, 0x78, 0x78, 0x78], hvcC);
      const cases: [string, Uint8Array][] = [
        ["cut in its coded data", bytes.slice(0, mdat + 2000)],
        ["cut in its meta box", bytes.slice(0, 200)],
        ["garbled slice data", garbled],
        ["its hvcC renamed", noConfig],
        ["coded data zeroed", Uint8Array.from(bytes, (value, i) => (i > mdat + 20 ? 0 : value))],
      ];
      for (const [what, damaged] of cases) {
        const path = await upload("damaged.heic", damaged);
        const response = await process(path, "image/resize,w_100");
        const body = await response.text();
        expect(response.status, `${what}: ${body.slice(0, 300)}`).toBe(400);
      }
      const path = await upload("good.heic", bytes);
      const image = await decoded(await process(path, "image/resize,w_100"));
      expect([image.width, image.height]).toEqual([100, 140]);
    },
  );
});
