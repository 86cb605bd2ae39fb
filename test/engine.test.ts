import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { dctDenominator } from "../src/codecs/jpeg";
import { engineStatus } from "../src/engine/instance";
import { cropRaster, type Raster } from "../src/image/raster";
import worker from "../src/index";
import { resampleWithEngine as resizeRaster } from "./codecs";
import {
  BLUE,
  decoded,
  decodeFile,
  expectColour,
  fixture,
  GREEN,
  jpegFrameType,
  ORIGIN,
  ossError,
  process,
  psnr,
  RED,
  request,
  upload,
  withOrientation,
  YELLOW,
} from "./helpers";

const MiB = 1024 * 1024;

/** The four quadrant colours at the centres of the quadrants of an image of any size. */
function expectQuadrants(image: Raster): void {
  const [w, h] = [image.width, image.height];
  expectColour(image, Math.floor(w / 4), Math.floor(h / 4), RED);
  expectColour(image, Math.floor((3 * w) / 4), Math.floor(h / 4), GREEN);
  expectColour(image, Math.floor(w / 4), Math.floor((3 * h) / 4), BLUE);
  expectColour(image, Math.floor((3 * w) / 4), Math.floor((3 * h) / 4), YELLOW);
}

// First in the file: the engine's heap never shrinks, so the ceiling is checked before other tests
// of this file use it for anything larger.
describe("memory ceiling", () => {
  it("resizes 12, 50 and 250 megapixel JPEGs to w_200 progressive within 32 MiB of engine heap", async () => {
    for (const [name, height] of [
      ["quadrants-12mp.jpg", 150],
      ["quadrants-50mp.jpg", 150],
      ["quadrants-250mp.jpg", 125],
    ] as const) {
      const path = await upload(name, fixture(name));
      const image = await decoded(await process(path, "image/resize,w_200/interlace,1"));
      expect([image.width, image.height], name).toEqual([200, height]);
      expect(jpegFrameType(image.bytes)).toBe("SOF2");
      expectQuadrants(image);
      expect(engineStatus().memoryBytes, name).toBeLessThanOrEqual(32 * MiB);
    }
  });

  it("answers average-hue for a 50 megapixel JPEG from a DCT-scaled decode", async () => {
    const path = await upload("big.jpg", fixture("quadrants-50mp.jpg"));
    const response = await process(path, "image/average-hue");
    expect(response.status).toBe(200);
    // Red, green, blue and yellow quadrants: (127.5, 127.5, 63.75), give or take JPEG's rounding.
    const { RGB } = await response.json<{ RGB: string }>();
    const [r, g, b] = [1, 3, 5].map((at) => Number.parseInt(RGB.slice(2).slice(at - 1, at + 1), 16));
    for (const [actual, expected] of [
      [r, 127.5],
      [g, 127.5],
      [b, 63.75],
    ]) {
      expect(Math.abs(actual - expected), RGB).toBeLessThanOrEqual(2);
    }
    expect(engineStatus().memoryBytes).toBeLessThanOrEqual(32 * MiB);
  });

  it("crops a region of a 50 megapixel JPEG without decoding the rest", async () => {
    // 400x300 around the centre (4096, 3072), where the four quadrants meet.
    const path = await upload("big.jpg", fixture("quadrants-50mp.jpg"));
    const image = await decoded(await process(path, "image/crop,x_3896,y_2922,w_400,h_300/format,png"));
    expect([image.width, image.height]).toEqual([400, 300]);
    expectQuadrants(image);
    expect(engineStatus().memoryBytes).toBeLessThanOrEqual(32 * MiB);
  });
});

describe("shrink-on-load", () => {
  it("picks the DCT scale that leaves the resampler only reducing", () => {
    const region = { x: 0, y: 0, width: 1600, height: 1200 };
    const scales = [800, 799, 400, 300, 200, 150, 801].map((width) =>
      dctDenominator(region, { width, height: (width * 3) / 4 }),
    );
    expect(scales).toEqual([2, 2, 4, 4, 8, 8, 1]);
  });

  it("decodes at 1/2, 1/4 and 1/8 to the exact size, with the pixels of a full decode resized", async () => {
    const path = await upload("photo.jpg", fixture("photo.jpg"));
    const full = await decoded(await process(path, "image/format,png"));
    expect([full.width, full.height]).toEqual([1600, 1200]);
    for (const width of [800, 400, 200, 160]) {
      const size = { width, height: (width * 3) / 4 };
      const scaled = await decoded(await process(path, `image/resize,w_${width}/format,png`));
      expect([scaled.width, scaled.height]).toEqual([size.width, size.height]);
      const reference = resizeRaster(full, size, false);
      expect(psnr(scaled, reference), `w_${width}`).toBeGreaterThan(38);
    }
  });

  it("resizes as sharp's Lanczos3 does, from JPEG (shrink-on-load) and from PNG", async () => {
    // Measured: 42.9 dB from JPEG (DCT scaling differs a little from libvips's), 52.1 from PNG.
    for (const [source, reference, threshold] of [
      ["photo.jpg", "photo-jpg-sharp-w200.png", 40],
      ["photo.png", "photo-png-sharp-w200.png", 48],
    ] as const) {
      const path = await upload(source, fixture(source));
      const ours = await decoded(await process(path, "image/resize,w_200/format,png"));
      const sharps = await decodeFile(fixture(reference));
      expect(psnr(ours, sharps), source).toBeGreaterThan(threshold);
    }
  });
});

describe("streamed crops", () => {
  it("decodes only the crop, with the pixels of a crop of the full decode", async () => {
    const path = await upload("photo.jpg", fixture("photo.jpg"));
    const full = await decoded(await process(path, "image/format,png"));
    const crop = await decoded(await process(path, "image/crop,x_333,y_217,w_401,h_299/format,png"));
    expect(psnr(crop, cropRaster(full, 333, 217, 401, 299))).toBeGreaterThan(60);
  });

  it("crops and resizes in one pass", async () => {
    const path = await upload("photo.jpg", fixture("photo.jpg"));
    const full = await decoded(await process(path, "image/format,png"));
    const both = await decoded(
      await process(path, "image/crop,x_100,y_150,w_1000,h_800/resize,w_250/format,png"),
    );
    expect([both.width, both.height]).toEqual([250, 200]);
    const reference = resizeRaster(cropRaster(full, 100, 150, 1000, 800), { width: 250, height: 200 }, false);
    expect(psnr(both, reference)).toBeGreaterThan(40);
  });

  it("maps the crop through every EXIF orientation to the stored pixels it needs", async () => {
    const photo = fixture("photo.jpg");
    for (let orientation = 2; orientation <= 8; orientation++) {
      const path = await upload("oriented.jpg", withOrientation(photo, orientation));
      const upright = await decoded(await process(path, "image/format,png"));
      const crop = await decoded(await process(path, "image/crop,x_50,y_120,w_300,h_200/format,png"));
      expect(
        psnr(crop, cropRaster(upright, 50, 120, 300, 200)),
        `orientation ${orientation}`,
      ).toBeGreaterThan(60);
    }
  });
});

/** The photo with its first Huffman table made impossible (more codes than 8 bits can hold). */
function withBrokenHuffmanTable(jpeg: Uint8Array): Uint8Array {
  const broken = jpeg.slice();
  for (let i = 2; i + 1 < broken.length; i++) {
    if (broken[i] === 0xff && broken[i + 1] === 0xc4) {
      broken.fill(0xff, i + 5, i + 5 + 16); // 16 code-length counts of 255
      return broken;
    }
  }
  throw new Error("no DHT segment");
}

/** A progressive JPEG header claiming `width` x `height` (4:2:0), with no image data after it. */
function progressiveClaiming(width: number, height: number): Uint8Array {
  // biome-ignore format: one marker segment per line
  return new Uint8Array([
    0xff, 0xd8,
    0xff, 0xc2, 0x00, 0x11, 0x08, height >> 8, height & 0xff, width >> 8, width & 0xff,
    0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01,
    0xff, 0xda, 0x00, 0x0c, 0x03, 0x01, 0x00, 0x02, 0x11, 0x03, 0x11, 0x00, 0x00, 0x00,
    0xff, 0xd9,
  ]);
}

describe("engine failures", () => {
  it("answers ImageTooLarge when the engine runs out of memory, and the next request succeeds", async () => {
    // With the budget lifted, a full-size re-encode of a progressive 108 M px JPEG passes the plan;
    // its coefficients (324 MiB) cannot fit the engine's 96 MiB ceiling, so libjpeg's allocation
    // fails inside WASM.
    const good = await upload("photo.jpg", fixture("photo.jpg"));
    expect((await process(good, "image/resize,w_64")).status).toBe(200);
    const started = engineStatus().instancesStarted;
    const huge = await upload("huge-progressive.jpg", progressiveClaiming(12_000, 9_000));
    const context = createExecutionContext();
    const response = await worker.fetch(
      new Request(new URL(`${huge}?x-oss-process=image/quality,q_80`, ORIGIN)),
      { ...env, IMAGE_MEMORY_BUDGET_MB: "4096" },
      context,
    );
    await waitOnExecutionContext(context);
    const error = await ossError(response);
    expect(error).toMatchObject({ status: 400, code: "ImageTooLarge" });
    expect(error.message).toContain("ran out of memory");

    const after = await decoded(await process(good, "image/resize,w_80"));
    expect([after.width, after.height]).toEqual([80, 60]);
    expect(engineStatus().instancesStarted).toBe(started + 1);
  });

  it("starts a fresh engine after a trap, and the next request succeeds", async () => {
    const good = await upload("photo.jpg", fixture("photo.jpg"));
    expect((await process(good, "image/resize,w_64")).status).toBe(200);
    const started = engineStatus().instancesStarted;

    const bad = await upload("broken.jpg", withBrokenHuffmanTable(fixture("photo.jpg")));
    const error = await ossError(await process(bad, "image/resize,w_64"));
    expect(error).toMatchObject({ status: 400, code: "BadRequest" });
    expect(error.message).toContain("Huffman");
    expect((await request(bad)).status).toBe(200); // the object itself is still served

    const after = await decoded(await process(good, "image/resize,w_80"));
    expect([after.width, after.height]).toEqual([80, 60]);
    expect(engineStatus().instancesStarted).toBe(started + 1);
  });
});
