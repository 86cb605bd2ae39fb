import { describe, expect, it } from "vitest";
import { engineStatus, resetEnginePeak } from "../src/engine/instance";
import { readHeader } from "../src/image/header";
import type { Raster, Rgba } from "../src/image/raster";
import { parseProcess } from "../src/process/parse";
import { planProcess } from "../src/process/plan";
import type { Resources } from "../src/process/types";
import { type BmpVariant, bmpDecoder, writeBmp } from "./bmp-reference";
import {
  BLUE,
  decoded,
  encode,
  expectColour,
  GREEN,
  makeRaster,
  ossError,
  process,
  quadrants,
  RED,
  upload,
  YELLOW,
} from "./helpers";

/** A classic bottom-up 24-bit BMP (rows padded to 4 bytes), built by hand as other tools write it. */
function bottomUpBmp(
  width: number,
  height: number,
  colourAt: (x: number, y: number) => number[],
): Uint8Array {
  const stride = Math.ceil((width * 3) / 4) * 4;
  const out = new Uint8Array(54 + stride * height);
  const view = new DataView(out.buffer);
  out.set([0x42, 0x4d]);
  view.setUint32(2, out.length, true);
  view.setUint32(10, 54, true);
  view.setUint32(14, 40, true);
  view.setInt32(18, width, true);
  view.setInt32(22, height, true);
  view.setUint16(26, 1, true);
  view.setUint16(28, 24, true);
  for (let y = 0; y < height; y++) {
    const row = 54 + (height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const [r, g, b] = colourAt(x, y);
      out.set([b, g, r], row + x * 3);
    }
  }
  return out;
}

describe("BMP", () => {
  it("reads bottom-up 24-bit BMP", async () => {
    const bmp = bottomUpBmp(30, 20, (x, y) => (y < 10 ? (x < 15 ? [255, 0, 0] : [0, 255, 0]) : [0, 0, 255]));
    const path = await upload("bu.bmp", bmp);
    const out = await decoded(await process(path, "image/format,png"));
    expect([out.width, out.height]).toEqual([30, 20]);
    expectColour(out, 2, 2, RED, 0);
    expectColour(out, 28, 2, GREEN, 0);
    expectColour(out, 2, 18, BLUE, 0);
  });

  it("keeps BMP sources BMP, writes 24-bit when opaque", async () => {
    const path = await upload("q.bmp", await encode.bmp(quadrants(40, 30)));
    const res = await process(path, "image/resize,w_20");
    expect(res.headers.get("Content-Type")).toBe("image/bmp");
    const out = await decoded(res);
    expect([out.format, out.width, out.height]).toEqual(["bmp", 20, 15]);
    expect(new DataView(out.bytes.buffer).getUint16(28, true)).toBe(24);
    expectColour(out, 2, 2, RED);
    expectColour(out, 18, 13, YELLOW);
  });

  it("writes 32-bit BMP with alpha and reads it back", async () => {
    const half = makeRaster(20, 10, (x) => (x < 10 ? [0, 0, 0, 0] : [0, 255, 0, 255]));
    const path = await upload("a.png", await encode.png(half));
    const out = await decoded(await process(path, "image/format,bmp"));
    expect(out.format).toBe("bmp");
    expect(new DataView(out.bytes.buffer).getUint16(28, true)).toBe(32);
    expect(out.data[3]).toBe(0);
    expectColour(out, 15, 5, GREEN, 0);
  });

  it("converts BMP to other formats", async () => {
    const path = await upload("c.bmp", await encode.bmp(quadrants(40, 30)));
    const out = await decoded(await process(path, "image/format,jpg"));
    expect(out.format).toBe("jpg");
    expectColour(out, 30, 5, GREEN);
  });

  it("answers truncated or unsupported BMP with 400", async () => {
    const whole = await encode.bmp(quadrants(40, 30));
    const truncated = await upload("t.bmp", whole.slice(0, 200));
    expect(await ossError(await process(truncated, "image/resize,w_10"))).toMatchObject({
      code: "BadRequest",
    });
    const sevenBit = whole.slice();
    new DataView(sevenBit.buffer).setUint16(28, 7, true);
    const odd = await upload("p.bmp", sevenBit);
    const error = await ossError(await process(odd, "image/resize,w_10"));
    expect(error).toMatchObject({ status: 400, code: "BadRequest" });
    expect(error.message).toContain("7 bits");
  });
});

const MiB = 1024 * 1024;

/** The first pixel where two rasters differ, or -1 (never a diff of whole arrays). */
function firstDifference(actual: Raster, expected: Raster): number {
  if (actual.width !== expected.width || actual.height !== expected.height) return 0;
  for (let i = 0; i < expected.data.length; i++) if (actual.data[i] !== expected.data[i]) return i >> 2;
  return -1;
}

/** 19x11 (odd, so rows are padded): six flat colours whose channels 16-bit masks keep exactly. */
const PICTURE = makeRaster(19, 11, (x, y) => {
  const colours: Rgba[] = [RED, GREEN, BLUE, YELLOW, [255, 255, 255, 255], [0, 0, 0, 255]];
  return colours[(Math.floor(x / 4) + (y > 5 ? 3 : 0) + (x === y ? 1 : 0)) % 6];
});
/** Runs on the left, alternating pixels (RLE's absolute mode) on the right. */
const TWO_COLOURS = makeRaster(19, 11, (x, y) => (x < 6 ? (y % 2 ? RED : BLUE) : (x + y) % 2 ? RED : BLUE));
const WITH_ALPHA = makeRaster(19, 11, (x, y) => [x * 13, y * 20, 200, x < 5 ? 0 : x < 10 ? 128 : 255]);

const VARIANTS: [string, Raster, BmpVariant][] = [
  ["1-bit", TWO_COLOURS, { bits: 1 }],
  ["4-bit", PICTURE, { bits: 4 }],
  ["8-bit top-down", PICTURE, { bits: 8, topDown: true }],
  ["8-bit OS/2", PICTURE, { bits: 8, infoSize: 12 }],
  ["RLE8", PICTURE, { bits: 8, compression: 1 }],
  ["RLE4", PICTURE, { bits: 4, compression: 2 }],
  // Mixed stretches: absolute runs, odd lengths padded.
  ["RLE8 absolute", TWO_COLOURS, { bits: 8, compression: 1 }],
  ["RLE4 absolute", TWO_COLOURS, { bits: 4, compression: 2 }],
  ["16-bit 5-5-5", PICTURE, { bits: 16 }],
  ["16-bit 5-6-5 bitfields", PICTURE, { bits: 16, compression: 3, masks: [0xf800, 0x07e0, 0x001f] }],
  ["24-bit top-down", WITH_ALPHA, { bits: 24, topDown: true }],
  ["24-bit OS/2", WITH_ALPHA, { bits: 24, infoSize: 12 }],
  ["32-bit BI_RGB", WITH_ALPHA, { bits: 32 }],
  ["32-bit bitfields, V5 alpha", WITH_ALPHA, { bits: 32, compression: 3, infoSize: 124 }],
  [
    "32-bit alpha bitfields",
    WITH_ALPHA,
    { bits: 32, compression: 6, masks: [0xff00, 0xff0000, 0xff000000, 0xff] },
  ],
];

/** What a variant must decode to: its image, opaque unless the variant stores alpha. */
function expectedPixels(image: Raster, variant: BmpVariant): Raster {
  const alpha =
    variant.bits === 32 &&
    (variant.compression === 6 || (variant.compression === 3 && (variant.infoSize ?? 40) >= 56));
  const data = new Uint8ClampedArray(image.data);
  if (!alpha) for (let i = 3; i < data.length; i += 4) data[i] = 255;
  return { ...image, data };
}

/** What planning counts for a process string on a source. */
function planned(bytes: Uint8Array, value: string): number {
  const resources: Resources = {
    memoryBudgetBytes: 88 * MiB,
    object: () => Promise.reject(new Error("no objects here")),
    font: () => Promise.reject(new Error("no fonts here")),
  };
  return planProcess(parseProcess(value).actions, readHeader(bytes), resources).estimatedBytes;
}

describe("BMP in the engine", () => {
  it("decodes every variant pixel for pixel", async () => {
    for (const [name, image, variant] of VARIANTS) {
      const path = await upload(`${name.replaceAll(/[^a-z0-9]/gi, "-")}.bmp`, writeBmp(image, variant));
      const out = await decoded(await process(path, "image/format,png"));
      const expected = expectedPixels(image, variant);
      const at = firstDifference(out, expected);
      expect(at, `${name}: pixel ${at} is ${Array.from(out.data.subarray(at * 4, at * 4 + 4))}`).toBe(-1);
    }
  });

  it("writes what it reads: 24-bit when opaque, 32-bit with alpha, every pixel kept", async () => {
    for (const [name, image, variant] of VARIANTS) {
      const path = await upload(`again-${name.replaceAll(/[^a-z0-9]/gi, "-")}.bmp`, writeBmp(image, variant));
      const out = await decoded(await process(path, "image/format,bmp"));
      const expected = expectedPixels(image, variant);
      const opaque = expected.data.every((value, i) => i % 4 !== 3 || value === 255);
      expect(new DataView(out.bytes.buffer).getUint16(28, true), name).toBe(opaque ? 24 : 32);
      const reference = await bmpDecoder.decode(out.bytes);
      expect(firstDifference(reference, expected), name).toBe(-1);
    }
  });

  it("plans what decoding and encoding hold, bottom-up, top-down and RLE", async () => {
    const big = makeRaster(1200, 900, (x, y) => (((x >> 5) + (y >> 5)) % 2 ? RED : BLUE));
    for (const variant of [
      { bits: 24 },
      { bits: 24, topDown: true },
      { bits: 8, compression: 1 },
    ] as BmpVariant[]) {
      const bytes = writeBmp(big, variant);
      const path = await upload("big.bmp", bytes);
      for (const value of ["image/resize,w_200", "image/format,bmp", "image/rotate,90"]) {
        resetEnginePeak();
        const response = await process(path, value);
        expect(response.status, value).toBe(200);
        const peak = engineStatus().peakBytes;
        const estimate = planned(bytes, value);
        expect(peak, `${value}: peak ${peak} against ${estimate}`).toBeLessThanOrEqual(estimate);
        expect(estimate, `${value}: ${estimate} against peak ${peak}`).toBeLessThanOrEqual(
          peak * 1.35 + 2 * MiB,
        );
      }
    }
  });

  it("answers damaged BMPs with 400", async () => {
    const whole = writeBmp(PICTURE, { bits: 8 });
    const badHeader = whole.slice();
    new DataView(badHeader.buffer).setUint32(14, 20, true);
    const noPalette = whole.slice(0, 60);
    const rows = writeBmp(PICTURE, { bits: 24 });
    for (const [name, bytes] of [
      ["header.bmp", badHeader],
      ["palette.bmp", noPalette],
      ["rows.bmp", rows.slice(0, rows.length - 1)],
    ] as const) {
      const error = await ossError(await process(await upload(name, bytes), "image/resize,w_10"));
      expect(error, name).toMatchObject({ status: 400, code: "BadRequest" });
    }
  });
});
