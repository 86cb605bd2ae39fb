// TIFF in the engine (wasm/src/codecs/tiff.c): strips and tiles, each compression, grey, RGBA,
// 16-bit, a Display P3 profile; pixels against sharp's (libvips + libtiff, in Node) decodes of the
// same files, written as PNG by scripts/lib/format-images.mjs; OSS's 16,384-pixel side limit;
// variants it cannot decode and damaged files a 400 naming what; output as JPEG (Decision 1).
import { describe, expect, it } from "vitest";
import { ENGINE_MEMORY_BYTES, engineStatus, resetEnginePeak } from "../src/engine/instance";
import { readHeader } from "../src/image/header";
import type { Raster } from "../src/image/raster";
import { parseProcess } from "../src/process/parse";
import { planProcess } from "../src/process/plan";
import type { Resources } from "../src/process/types";
import { decodePngIndependently } from "./codecs";
import { decoded, decodeFile, formatImage, ossError, process, psnr, upload } from "./helpers";

const MiB = 1024 * 1024;
const BUDGET = 88 * MiB;
const HEAVY = { timeout: 300_000 };

const resources: Resources = {
  memoryBudgetBytes: BUDGET,
  object: () => Promise.reject(new Error("no objects here")),
  font: () => Promise.reject(new Error("no fonts here")),
};

const estimateFor = (bytes: Uint8Array, value: string) =>
  planProcess(parseProcess(value).actions, readHeader(bytes), resources).estimatedBytes;

/** The largest difference of any channel of any pixel, and where. */
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

async function processed(name: string, value: string) {
  const path = await upload(name, await formatImage(name));
  return decoded(await process(path, value));
}

/** sharp's decode of a TIFF, as a PNG: from the suite's generator, made by libvips in Node. */
async function sharpDecodeOf(name: string): Promise<Raster> {
  return decodePngIndependently(await formatImage(name.replace(/\.tiff$/, ".sharp.png")));
}

describe("TIFF decoding in the engine", () => {
  // Lossless layouts: a PNG at full size gives back exactly the pixels libvips reads.
  for (const name of [
    "fmt-photo-4mp-lzw.tiff",
    "fmt-photo-4mp-deflate.tiff",
    "fmt-photo-4mp-tiled.tiff",
    "fmt-photo-packbits.tiff",
    "fmt-photo-none.tiff",
    "fmt-alpha.tiff",
    "fmt-grey.tiff",
    "fmt-16bit.tiff",
  ]) {
    it(`${name}: every pixel as sharp decodes it`, HEAVY, async () => {
      const image = await processed(name, "image/format,png");
      const { at, by } = largestDifference(image, await sharpDecodeOf(name));
      expect(by, `${name}: first largest difference at byte ${at}`).toBeLessThanOrEqual(
        name.includes("16bit") ? 1 : 0,
      );
    });
  }

  it("JPEG-compressed TIFF: the pixels libjpeg gives sharp, within a level or two", HEAVY, async () => {
    const image = await processed("fmt-photo-4mp-jpeg.tiff", "image/format,png");
    expect(psnr(image, await sharpDecodeOf("fmt-photo-4mp-jpeg.tiff"))).toBeGreaterThan(45);
  });

  it("keeps alpha and answers as JPEG without a format (Decision 1), PNG keeps the alpha", async () => {
    const jpeg = await processed("fmt-alpha.tiff", "image/resize,w_300");
    expect(jpeg.format).toBe("jpg");
    expect(jpeg.width).toBe(300);
    const png = await processed("fmt-alpha.tiff", "image/resize,w_300/format,png");
    let transparent = 0;
    for (let i = 3; i < png.data.length; i += 4) if (png.data[i] < 128) transparent++;
    expect(transparent).toBeGreaterThan(png.width * png.height * 0.05);
  });

  it("a grey TIFF becomes a grey PNG", async () => {
    const image = await processed("fmt-grey.tiff", "image/resize,w_300/format,png");
    expect(image.bytes[25]).toBe(0);
  });

  it("thumbnails match sharp's", async () => {
    const image = await processed("fmt-photo-4mp-lzw.tiff", "image/resize,w_200/format,png");
    const expected = await decodeFile(await formatImage("fmt-photo-4mp-lzw.sharp-w200.png"));
    expect(psnr(image, expected)).toBeGreaterThan(34);
  });

  it("converts an embedded Display P3 profile to sRGB, as sharp does", async () => {
    const image = await processed("fmt-p3.tiff", "image/format,png");
    const expected = await decodeFile(await formatImage("fmt-p3-tiff.sharp.png"));
    expect(readHeader(await formatImage("fmt-p3.tiff")).iccBytes).toBeGreaterThan(0);
    expect(psnr(image, expected)).toBeGreaterThan(40);
  });

  it(
    "a 4 MP TIFF within the budget at each target, the plan at or above the engine's peak",
    HEAVY,
    async () => {
      for (const name of ["fmt-photo-4mp-lzw.tiff", "fmt-photo-4mp-tiled.tiff", "fmt-photo-4mp-jpeg.tiff"]) {
        const bytes = await formatImage(name);
        const path = await upload(name, bytes);
        for (const [value, size] of [
          ["image/resize,w_200", [200, 150]],
          ["image/resize,w_1080/quality,q_80", [1080, 810]],
          ["image/format,jpg", [2304, 1728]],
          ["image/format,png", [2304, 1728]],
        ] as const) {
          resetEnginePeak();
          const image = await decoded(await process(path, value));
          expect([image.width, image.height], `${name} ${value}`).toEqual(size);
          const estimate = estimateFor(bytes, value);
          const peak = engineStatus().peakBytes;
          expect(peak, `${name} ${value}: peak ${peak} against estimate ${estimate}`).toBeLessThanOrEqual(
            estimate,
          );
          expect(estimate, `${name} ${value}: estimate ${estimate} against peak ${peak}`).toBeLessThanOrEqual(
            peak * 1.35 + 2 * MiB,
          );
        }
      }
      expect(engineStatus().memoryBytes).toBeLessThanOrEqual(ENGINE_MEMORY_BYTES);
    },
  );
});

describe("TIFF limits and refusals", () => {
  it("refuses a TIFF wider than OSS's 16,384 pixels", async () => {
    const path = await upload("wide.tiff", await formatImage("fmt-wide-16385.tiff"));
    const error = await ossError(await process(path, "image/resize,w_100"));
    expect([error.status, error.code]).toEqual([400, "ImageTooLarge"]);
    expect(error.message).toContain("16384");
  });

  it("names the variant it cannot decode", async () => {
    const path = await upload("fax.tiff", await formatImage("fmt-1bit-ccitt.tiff"));
    const error = await ossError(await process(path, "image/resize,w_100"));
    expect([error.status, error.code]).toEqual([400, "BadRequest"]);
    expect(error.message).toContain("CCITT Group 4 fax");
  });

  it("answers format,tiff with a 400 naming it", async () => {
    const path = await upload("photo.tiff", await formatImage("fmt-photo-none.tiff"));
    const error = await ossError(await process(path, "image/format,tiff"));
    expect(error.status).toBe(400);
    expect(error.message).toContain("tiff");
  });

  it("answers damaged TIFFs with 400 BadRequest, and serves the next request", async () => {
    for (const name of ["fmt-truncated.tiff", "fmt-damaged-ifd.tiff"]) {
      const path = await upload(name, await formatImage(name));
      const error = await ossError(await process(path, "image/resize,w_200"));
      expect([error.status, error.code], `${name}: ${error.message}`).toEqual([400, "BadRequest"]);
    }
    const image = await processed("fmt-photo-none.tiff", "image/resize,w_100");
    expect(image.width).toBe(100);
  });
});
