// WebP in the codec engine (wasm/src/codecs/webp.c): still lossy, lossless and alpha images decoded
// by rows and scaled while decoding, animations frame by frame, the encoder (lossy, lossless,
// alpha, animation), memory estimates held against the engine's high-water mark. Sources come from
// scripts/lib/webp-images.mjs (sharp); the independent decoder is @jsquash's libwebp build.
import { describe, expect, it } from "vitest";
import { ENGINE_MEMORY_BYTES, engineStatus, resetEnginePeak } from "../src/engine/instance";
import { readHeader } from "../src/image/header";
import type { Raster } from "../src/image/raster";
import { decodeWebpIndependently, resampleWithEngine } from "./codecs";
import {
  decoded,
  decodeFile,
  fixture,
  ossError,
  pixel,
  planOf,
  process,
  psnr,
  testImage,
  upload,
  wasmMiB,
} from "./helpers";
import { type AnimationFrame, animation, chunks } from "./webp-container";

const MiB = 1024 * 1024;
const BUDGET = 88 * MiB;
const HEAVY = { timeout: 900_000 };
/** As scripts/lib/webp-images.mjs makes them. */
const DELAYS = [40, 60, 80, 100, 120, 140, 160, 180, 200, 220, 240, 260];
const GIF_FRAMES = 24;
const GIF_DELAY = 80;

const planFor = (bytes: Uint8Array, value: string) => planOf(bytes, value, BUDGET).estimatedBytes;

const images = new Map<string, Promise<Uint8Array>>();
/** A generated image, fetched once. */
function generated(name: string): Promise<Uint8Array> {
  let found = images.get(name);
  if (!found) {
    found = testImage(name);
    images.set(name, found);
  }
  return found;
}

const sources = new Map<string, Promise<{ bytes: Uint8Array; path: string }>>();

/** A source image, uploaded once per test file. */
function source(name: string): Promise<{ bytes: Uint8Array; path: string }> {
  let found = sources.get(name);
  if (!found) {
    found = (async () => {
      const bytes = name.endsWith(".jpg") ? fixture(name) : await generated(name);
      return { bytes, path: await upload(name, bytes) };
    })();
    sources.set(name, found);
  }
  return found;
}

async function processed(name: string, value: string) {
  const { path } = await source(name);
  return decoded(await process(path, value));
}

/** Mean absolute difference of the channels `channels` of two images of one size. */
function meanAbsoluteDifference(a: Raster, b: Raster, channels = [0, 1, 2]): number {
  expect([a.width, a.height]).toEqual([b.width, b.height]);
  let total = 0;
  for (let i = 0; i < a.data.length; i += 4)
    for (const c of channels) total += Math.abs(a.data[i + c] - b.data[i + c]);
  return total / ((a.data.length / 4) * channels.length);
}

/** The first pixel where the two differ beyond `tolerance` (on visible pixels when `visibleOnly`), or undefined. */
function firstDifference(a: Raster, b: Raster, tolerance = 0, visibleOnly = false): string | undefined {
  expect([a.width, a.height]).toEqual([b.width, b.height]);
  for (let i = 0; i < a.data.length; i += 4) {
    if (visibleOnly && a.data[i + 3] === 0 && b.data[i + 3] === 0) continue;
    for (let c = 0; c < 4; c++) {
      if (Math.abs(a.data[i + c] - b.data[i + c]) > tolerance) {
        const x = (i / 4) % a.width;
        const y = Math.floor(i / 4 / a.width);
        return `(${x}, ${y}): ${pixel(a, x, y)} against ${pixel(b, x, y)}`;
      }
    }
  }
  return undefined;
}

function crop(image: Raster, x: number, y: number, width: number, height: number): Raster {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let row = 0; row < height; row++) {
    const from = ((y + row) * image.width + x) * 4;
    data.set(image.data.subarray(from, from + width * 4), row * width * 4);
  }
  return { width, height, data };
}

describe("WebP decoding in the engine", () => {
  it("decodes lossy WebP to libwebp's own pixels", async () => {
    const { bytes } = await source("webp-photo.webp");
    const image = await processed("webp-photo.webp", "image/format,png");
    expect([image.format, image.width, image.height]).toEqual(["png", 1600, 1200]);
    expect(psnr(image, await decodeWebpIndependently(bytes))).toBeGreaterThan(50);
  });

  it("keeps alpha: a lossless RGBA WebP decodes to its source pixels exactly", async () => {
    const image = await processed("webp-alpha-lossless.webp", "image/format,png");
    const original = await decodeFile(await generated("webp-alpha-source.png"));
    // Invisible pixels may take any colour (sharp's encoder does not keep them).
    expect(firstDifference(image, original, 0, true)).toBeUndefined();
    expect(meanAbsoluteDifference(image, original, [3])).toBe(0);
  });

  it("keeps alpha: a lossy WebP with an alpha channel", async () => {
    const { bytes } = await source("webp-alpha-lossy.webp");
    const image = await processed("webp-alpha-lossy.webp", "image/format,png");
    const independent = await decodeWebpIndependently(bytes);
    expect(meanAbsoluteDifference(image, independent, [3])).toBe(0);
    expect(firstDifference(image, independent, 2, true)).toBeUndefined();
    expect(pixel(image, 5, 5)[3]).toBe(255);
    expect(pixel(image, 635, 5)[3]).toBe(0);
  });

  it("crops while decoding (odd corners included) to the same pixels", async () => {
    const lossless = await processed(
      "webp-alpha-lossless.webp",
      "image/crop,x_101,y_51,w_300,h_201/format,png",
    );
    const original = await decodeFile(await generated("webp-alpha-source.png"));
    expect(firstDifference(lossless, crop(original, 101, 51, 300, 201), 0, true)).toBeUndefined();
    const { bytes } = await source("webp-photo.webp");
    const lossy = await processed("webp-photo.webp", "image/crop,x_333,y_221,w_500,h_301/format,png");
    const whole = await decodeWebpIndependently(bytes);
    expect(psnr(lossy, crop(whole, 333, 221, 500, 301))).toBeGreaterThan(50);
  });

  it("makes thumbnails by libwebp's scaled decoding close to a full decode resampled", async () => {
    for (const name of ["webp-photo.webp", "webp-alpha-lossless.webp", "webp-alpha-lossy.webp"]) {
      const { bytes } = await source(name);
      const thumbnail = await processed(name, "image/resize,w_200/format,png");
      const whole = await decodeWebpIndependently(bytes);
      const size = { width: 200, height: Math.round((200 * whole.height) / whole.width) };
      expect([thumbnail.width, thumbnail.height], name).toEqual([size.width, size.height]);
      const reference = resampleWithEngine(whole, size, true);
      expect(meanAbsoluteDifference(thumbnail, reference, [3]), `${name} alpha`).toBeLessThan(2);
      // Compare colours where they are visible.
      const visible = (image: Raster) => {
        const data = new Uint8ClampedArray(image.data);
        for (let i = 0; i < data.length; i += 4) if (reference.data[i + 3] < 128) data.fill(0, i, i + 4);
        return { ...image, data };
      };
      expect(meanAbsoluteDifference(visible(thumbnail), visible(reference)), name).toBeLessThan(3);
    }
  });

  it("converts an ICCP profile (Display P3) to sRGB", async () => {
    const image = await processed("webp-colour-p3.webp", "image/format,png");
    const sharpSrgb = await decodeFile(await generated("webp-colour-p3.sharp.png"));
    expect(readHeader(await generated("webp-colour-p3.webp")).iccBytes).toBeGreaterThan(100);
    expect(meanAbsoluteDifference(image, sharpSrgb)).toBeLessThan(2);
    const unmanaged = await decodeWebpIndependently(await generated("webp-colour-p3.webp"));
    expect(meanAbsoluteDifference(unmanaged, sharpSrgb)).toBeGreaterThan(4);
  });

  it("refuses damaged WebP files with 400", async () => {
    const lossless = await generated("webp-alpha-lossless.webp");
    const lossy = await generated("webp-photo.webp");
    const animated = await generated("webp-animated.webp");
    const flipped = lossy.slice();
    for (let at = 200; at < flipped.length; at += 997) flipped[at] ^= 0x55;
    const cases: [string, Uint8Array][] = [
      ["lossless-half.webp", lossless.subarray(0, lossless.length >> 1)],
      ["lossy-half.webp", lossy.subarray(0, lossy.length >> 1)],
      ["animated-half.webp", animated.subarray(0, animated.length >> 1)],
      ["lossy-flipped.webp", flipped],
    ];
    for (const [name, bytes] of cases) {
      const path = await upload(name, bytes);
      for (const value of ["image/resize,w_100", "image/format,png"]) {
        const response = await process(path, value);
        if (name === "lossy-flipped.webp" && response.status === 200) continue; // damage libwebp tolerates
        expect((await ossError(response)).status, `${name} ${value}`).toBe(400);
      }
    }
    // The next request is served.
    expect((await process((await source("webp-photo.webp")).path, "image/resize,w_50")).status).toBe(200);
  });
});

describe("WebP encoding in the engine", () => {
  it("writes lossy WebP at the default quality 85, and at the quality asked", async () => {
    const { bytes, path } = await source("webp-photo.webp");
    const reference = await decodeWebpIndependently(bytes);
    const plain = await decoded(await process(path, "image/format,webp"));
    const q85 = await decoded(await process(path, "image/quality,Q_85"));
    const q40 = await decoded(await process(path, "image/quality,Q_40"));
    expect(plain.format).toBe("webp");
    expect(plain.bytes.length).toBe(q85.bytes.length);
    expect(q40.bytes.length).toBeLessThan(plain.bytes.length * 0.7);
    expect(psnr(plain, reference)).toBeGreaterThan(35);
    expect(psnr(q40, reference)).toBeGreaterThan(30);
    expect(chunks(plain.bytes).map(({ type }) => type)).toEqual(["VP8 "]);
  });

  it("writes lossless WebP (quality,Q_lossless) with alpha, pixel for pixel", async () => {
    const image = await processed("webp-alpha-lossless.webp", "image/quality,Q_lossless");
    expect(chunks(image.bytes).some(({ type }) => type === "VP8L")).toBe(true);
    const original = await decodeFile(await generated("webp-alpha-source.png"));
    // Invisible pixels may take any colour (libwebp's default, not `exact`).
    expect(firstDifference(image, original, 0, true)).toBeUndefined();
  });

  it("keeps alpha in lossy output", async () => {
    const image = await processed("webp-alpha-lossless.webp", "image/format,webp");
    const types = chunks(image.bytes).map(({ type }) => type);
    expect(types).toContain("ALPH");
    const original = await decodeFile(await generated("webp-alpha-source.png"));
    expect(meanAbsoluteDifference(image, original, [3])).toBeLessThan(0.5);
    expect(pixel(image, 635, 240)[3]).toBe(0);
    expect(pixel(image, 5, 240)[3]).toBe(255);
  });

  it("refuses an output side over WebP's 16383 with a clear 400", async () => {
    const { path } = await source("webp-alpha-lossy.webp");
    const response = await process(path, "image/resize,m_fixed,w_16384,h_100,limit_0");
    const error = await ossError(response);
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/16383/);
  });
});

describe("animated WebP", () => {
  it("keeps every frame and its duration through resize by width", async () => {
    const image = new Uint8Array(
      await (await process((await source("webp-animated.webp")).path, "image/resize,w_160")).arrayBuffer(),
    );
    const read = animation(image);
    expect(read, "an animated WebP").toBeDefined();
    expect([read?.width, read?.height, read?.loopCount]).toEqual([160, 120, 0]);
    expect(read?.frames.map(({ duration }) => duration)).toEqual(DELAYS);
    expect(readHeader(image).frames).toBe(12);
    // The first frame covers the canvas: its pixels are the source's first frame, resized.
    const original = animation(await generated("webp-animated.webp"));
    const first = await decodeWebpIndependently(original?.frames[0].still as Uint8Array);
    const expected = resampleWithEngine(first, { width: 160, height: 120 }, true);
    const frame = read?.frames[0] as AnimationFrame;
    expect([frame.x, frame.y, frame.width, frame.height]).toEqual([0, 0, 160, 120]);
    expect(psnr(await decodeWebpIndependently(frame.still), expected)).toBeGreaterThan(30);
  });

  it("takes the first frame for the actions that make it static, and for formats that cannot animate", async () => {
    const { path } = await source("webp-animated.webp");
    const rotated = await decoded(await process(path, "image/rotate,90"));
    expect([rotated.format, rotated.width, rotated.height]).toEqual(["webp", 240, 320]);
    expect(readHeader(rotated.bytes).frames).toBe(1);
    const png = await decoded(await process(path, "image/resize,w_100/format,png"));
    expect([png.format, png.width, png.height]).toEqual(["png", 100, 75]);
    const info = await process(path, "image/info");
    expect(((await info.json()) as { FrameCount: { value: string } }).FrameCount.value).toBe("12");
  });

  it("turns an animated GIF into an animated WebP with all its frames", async () => {
    const { path } = await source("webp-animated.gif");
    for (const [value, width, height] of [
      ["image/format,webp", 480, 270],
      ["image/resize,w_240/format,webp", 240, 135],
    ] as const) {
      const bytes = new Uint8Array(await (await process(path, value)).arrayBuffer());
      const read = animation(bytes);
      expect(read, value).toBeDefined();
      expect([read?.width, read?.height], value).toEqual([width, height]);
      expect(read?.frames.length, value).toBe(GIF_FRAMES);
      expect(new Set(read?.frames.map(({ duration }) => duration)), value).toEqual(new Set([GIF_DELAY]));
    }
  });
});

describe("WebP at phone sizes under the default budget", () => {
  const CASES: [string, string, [number, number]][] = [
    ["webp-12mp-lossy.webp", "image/resize,w_200", [200, 150]],
    ["webp-12mp-lossy.webp", "image/resize,w_1080/quality,q_80", [1080, 810]],
    ["webp-12mp-lossy.webp", "image/format,jpg", [4032, 3024]],
    ["webp-4mp-lossless.webp", "image/resize,w_200", [200, 150]],
    ["webp-4mp-lossless.webp", "image/resize,w_1080/quality,q_80", [1080, 810]],
    ["webp-4mp-lossless.webp", "image/format,jpg", [2304, 1728]],
    ["photo-12mp.jpg", "image/format,webp", [4032, 3024]],
    ["webp-animated.gif", "image/format,webp", [480, 270]],
    ["webp-animated.webp", "image/resize,w_200", [200, 150]],
    ["webp-alpha-lossless.webp", "image/quality,Q_lossless", [640, 480]],
    ["webp-alpha-lossless.webp", "image/format,webp", [640, 480]],
  ];

  it("answers each, within the ceiling, with an estimate that covers the engine's peak", HEAVY, async () => {
    for (const [name, value, [width, height]] of CASES) {
      // Uploaded afresh: a cached answer would not run the engine.
      const { bytes } = await source(name);
      const path = await upload(name, bytes);
      resetEnginePeak();
      const response = await process(path, value);
      if (response.status !== 200)
        expect.fail(`${name} ${value}: ${response.status} ${await response.text()}`);
      expect(wasmMiB(response), value).toBeLessThanOrEqual(96);
      const body = new Uint8Array(await response.arrayBuffer());
      const header = readHeader(body);
      expect([header.width, header.height], `${name} ${value}`).toEqual([width, height]);
      const estimate = planFor(bytes, value);
      const peak = engineStatus().peakBytes;
      const what = `${name} ${value}: peak ${(peak / MiB).toFixed(2)} MiB, estimate ${(estimate / MiB).toFixed(2)} MiB`;
      expect(peak, what).toBeLessThanOrEqual(estimate);
      expect(estimate, what).toBeLessThanOrEqual(peak * 1.35 + 2 * MiB);
    }
    expect(engineStatus().memoryBytes).toBeLessThanOrEqual(ENGINE_MEMORY_BYTES);
  });

  it("keeps the pixels: a 12 MP JPEG as WebP, and the 12 MP WebP as JPEG", HEAVY, async () => {
    const jpeg = fixture("photo-12mp.jpg");
    const asWebp = await processed("photo-12mp.jpg", "image/format,webp");
    expect(psnr(await decodeWebpIndependently(asWebp.bytes), await decodeFile(jpeg))).toBeGreaterThan(33);
    const webp = await generated("webp-12mp-lossy.webp");
    const asJpeg = await processed("webp-12mp-lossy.webp", "image/format,jpg");
    expect(psnr(asJpeg, await decodeWebpIndependently(webp))).toBeGreaterThan(33);
  });

  it("refuses a lossless encode too large for the budget with ImageTooLarge, before decoding", async () => {
    const { path } = await source("webp-4mp-lossless.webp");
    const error = await ossError(await process(path, "image/quality,Q_lossless"));
    expect([error.status, error.code]).toEqual([400, "ImageTooLarge"]);
  });
});
