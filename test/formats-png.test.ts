// PNG in the engine (wasm/src/codecs/png.c): every layout decoded to the pixels an independent
// decoder (@jsquash/png, the Rust png crate) gives, Adam7 and 16-bit included; output in the
// colour type the plan decides (src/codecs/png.ts); large sources within the memory budget with the
// planner's estimate at or above the engine's high-water mark; damaged files a 400.
import { describe, expect, it } from "vitest";
import { pngColourType } from "../src/codecs/png";
import { ENGINE_MEMORY_BYTES, engineStatus, resetEnginePeak } from "../src/engine/instance";
import { readHeader } from "../src/image/header";
import type { Raster } from "../src/image/raster";
import { parseProcess } from "../src/process/parse";
import { planOps, planProcess } from "../src/process/plan";
import type { Resources } from "../src/process/types";
import { decodePngIndependently } from "./codecs";
import { decoded, decodeFile, fixture, formatImage, ossError, process, psnr, upload } from "./helpers";

const MiB = 1024 * 1024;
const BUDGET = 88 * MiB;
const HEAVY = { timeout: 300_000 };

const resources: Resources = {
  memoryBudgetBytes: BUDGET,
  object: () => Promise.reject(new Error("no objects here")),
  font: () => Promise.reject(new Error("no fonts here")),
};

const planFor = (bytes: Uint8Array, value: string) =>
  planProcess(parseProcess(value).actions, readHeader(bytes), resources);

/** The colour type in a PNG's IHDR. */
const colourTypeOf = (png: Uint8Array) => png[25];

/** The largest difference of any channel of any pixel, and where: a diff of megabytes would swamp the report. */
function largestDifference(a: Raster, b: Raster): { at: number; by: number } {
  expect([a.width, a.height]).toEqual([b.width, b.height]);
  let at = -1;
  let by = 0;
  for (let i = 0; i < a.data.length; i++) {
    const difference = Math.abs(a.data[i] - b.data[i]);
    if (difference > by) {
      by = difference;
      at = i;
    }
  }
  return { at, by };
}

/** The suite's own images, or a committed fixture (photo.jpg). */
const source = (name: string) =>
  name.startsWith("fmt-") ? formatImage(name) : Promise.resolve(fixture(name));

/**
 * PSNR over the colours of pixels that show (alpha over 128): the colour a nearly transparent
 * pixel keeps after resampling differs between premultiplying resamplers and is never seen.
 */
function visiblePsnr(actual: Raster, expected: Raster): number {
  const keep = (image: Raster) => {
    const data = new Uint8ClampedArray(image.data);
    for (let i = 0; i < data.length; i += 4)
      if (actual.data[i + 3] <= 128 || expected.data[i + 3] <= 128) data.fill(0, i, i + 4);
    return { ...image, data };
  };
  return psnr(keep(actual), keep(expected));
}

async function processed(name: string, value: string) {
  const path = await upload(name, await source(name));
  return decoded(await process(path, value));
}

describe("PNG decoding in the engine", () => {
  // A lossless re-encode at full size gives back the decoder's pixels, compared with @jsquash/png's.
  for (const name of [
    "fmt-photo.png",
    "fmt-alpha.png",
    "fmt-adam7.png",
    "fmt-adam7-rgb.png",
    "fmt-16bit.png",
    "fmt-16bit-rgb.png",
    "fmt-grey.png",
    "fmt-grey-alpha.png",
    "fmt-palette-trns.png",
    "fmt-palette-opaque.png",
  ]) {
    it(`${name}: every pixel as an independent decoder gives it`, HEAVY, async () => {
      const image = await processed(name, "image/format,png");
      const expected = await decodePngIndependently(await source(name));
      const { at, by } = largestDifference(image, expected);
      // 16-bit samples: libpng keeps the high byte, as sharp does; the png crate may round.
      expect(by, `${name}: first largest difference at byte ${at}`).toBeLessThanOrEqual(
        name.includes("16bit") ? 1 : 0,
      );
    });
  }

  it("keeps transparency: a palette with tRNS and an Adam7 RGBA image keep their alpha", async () => {
    for (const name of ["fmt-palette-trns.png", "fmt-adam7.png"]) {
      const image = await processed(name, "image/resize,w_300");
      expect(colourTypeOf(image.bytes), name).toBe(6);
      let transparent = 0;
      for (let i = 3; i < image.data.length; i += 4) if (image.data[i] < 128) transparent++;
      expect(transparent, name).toBeGreaterThan(image.width * image.height * 0.05);
    }
  });

  it("thumbnails match sharp's (Lanczos3 from the same source)", async () => {
    for (const [name, ref] of [
      ["fmt-photo.png", "fmt-photo.sharp-w200.png"],
      ["fmt-alpha.png", "fmt-alpha.sharp-w200.png"],
    ]) {
      const image = await processed(name, "image/resize,w_200");
      const expected = await decodeFile(await source(ref));
      expect(visiblePsnr(image, expected), name).toBeGreaterThan(34);
    }
  });

  it("converts an iCCP Display P3 profile to sRGB, as sharp does", async () => {
    const image = await processed("fmt-p3.png", "image/format,png");
    const expected = await decodeFile(await source("fmt-p3.sharp.png"));
    const unconverted = await decodePngIndependently(await source("fmt-p3.png"));
    expect(psnr(image, expected)).toBeGreaterThan(40);
    expect(psnr(unconverted, expected)).toBeLessThan(psnr(image, expected) - 6);
    expect(readHeader(await source("fmt-p3.png")).iccBytes).toBeGreaterThan(0);
  });

  it("answers damaged PNGs with 400 BadRequest", async () => {
    for (const name of ["fmt-truncated.png", "fmt-damaged-idat.png"]) {
      const path = await upload(name, await source(name));
      for (const value of ["image/resize,w_200", "image/format,png"]) {
        const response = await process(path, value);
        const error = await ossError(response);
        expect([error.status, error.code], `${name} ${value}: ${error.message}`).toEqual([400, "BadRequest"]);
      }
    }
    // The next request is served.
    const image = await processed("fmt-photo.png", "image/resize,w_100");
    expect(image.width).toBe(100);
  });
});

describe("PNG encoding in the engine", () => {
  it("writes RGB when opaque, RGBA with alpha, grey when grey, the palette when nothing changed a colour", async () => {
    const cases: [string, string, number][] = [
      ["fmt-photo.png", "image/format,png", 2],
      ["fmt-photo.png", "image/resize,w_300", 2],
      ["fmt-photo.png", "image/rotate,30", 6], // the exposed corners are transparent
      ["fmt-alpha.png", "image/resize,w_300", 6],
      ["fmt-grey.png", "image/resize,w_300", 0],
      ["fmt-grey.png", "image/resize,m_pad,w_300,h_300,color_FF0000", 2],
      ["fmt-grey-alpha.png", "image/blur,r_3,s_2", 4],
      ["fmt-palette-opaque.png", "image/format,png", 3],
      ["fmt-palette-opaque.png", "image/crop,w_500,h_400/rotate,90", 3],
      ["fmt-palette-opaque.png", "image/resize,w_300", 2],
      ["fmt-palette-trns.png", "image/format,png", 3],
      ["fmt-16bit.png", "image/format,png", 6],
      ["photo.jpg", "image/format,png", 2],
    ];
    for (const [name, value, type] of cases) {
      const image = await processed(name, value);
      expect(image.format, `${name} ${value}`).toBe("png");
      expect(colourTypeOf(image.bytes), `${name} ${value}`).toBe(type);
    }
  });

  it("re-encodes an opaque palette PNG at full size in at most twice its bytes, pixels unchanged", async () => {
    const original = await source("fmt-palette-opaque.png");
    const image = await processed("fmt-palette-opaque.png", "image/format,png");
    expect(image.bytes.length).toBeLessThanOrEqual(2 * original.length);
    expect(largestDifference(image, await decodePngIndependently(original)).by).toBe(0);
  });

  it("decides the colour type from the source and the plan's ops", async () => {
    const bytes = await source("fmt-grey.png");
    const grey = readHeader(bytes);
    const ops = (value: string) => planOps(planFor(bytes, value), undefined).slice(0, -1);
    expect(pngColourType(grey, ops("image/resize,w_300"), false)).toBe(0);
    expect(pngColourType(grey, ops("image/resize,w_300"), true)).toBe(4);
    expect(pngColourType(grey, ops("image/rotate,45"), false)).toBe(0); // white corners
  });
});

// The targets: each under the default budget, the plan at or above the engine's peak.
const LARGE: [string, string, [number, number], string][] = [
  ["fmt-photo-12mp.png", "image/resize,w_200", [200, 150], "png"],
  ["fmt-photo-12mp.png", "image/resize,w_1080/quality,q_80", [1080, 810], "png"],
  ["fmt-photo-12mp.png", "image/format,jpg", [4032, 3024], "jpg"],
  ["fmt-photo-12mp.png", "image/format,png", [4032, 3024], "png"],
  ["fmt-screenshot-3840x2160.png", "image/resize,w_200", [200, 113], "png"],
  ["fmt-screenshot-3840x2160.png", "image/resize,w_1080/quality,q_80", [1080, 608], "png"],
  ["fmt-screenshot-3840x2160.png", "image/format,jpg", [3840, 2160], "jpg"],
  ["fmt-adam7.png", "image/resize,w_200", [200, 140], "png"],
];

describe("large PNGs within the memory budget", () => {
  it("answers each, plans at least what the engine holds, and stays under the ceiling", HEAVY, async () => {
    const paths = new Map<string, string>();
    for (const [name, value, [width, height], format] of LARGE) {
      const bytes = await source(name);
      if (!paths.has(name)) paths.set(name, await upload(name, bytes));
      resetEnginePeak();
      const image = await decoded(await process(paths.get(name) as string, value));
      expect([image.width, image.height, image.format], `${name} ${value}`).toEqual([width, height, format]);
      const estimate = planFor(bytes, value).estimatedBytes;
      const peak = engineStatus().peakBytes;
      expect(peak, `${name} ${value}: peak ${peak} against estimate ${estimate}`).toBeLessThanOrEqual(
        estimate,
      );
      expect(estimate, `${name} ${value}: estimate ${estimate} against peak ${peak}`).toBeLessThanOrEqual(
        peak * 1.35 + 2 * MiB,
      );
      expect(estimate, `${name} ${value}`).toBeLessThanOrEqual(BUDGET);
    }
    expect(engineStatus().memoryBytes).toBeLessThanOrEqual(ENGINE_MEMORY_BYTES);
  });
});
