// Colour management (wasm/src/steps/color.c): sources tagged with Display P3, Adobe RGB, CMYK
// (with and without a profile), grey and broken profiles, made by scripts/lib/colour-images.mjs,
// come out in sRGB. References are sharp's colour-managed decodes (Little CMS inside libvips) and,
// for Adobe RGB and grey, the profiles' own arithmetic computed here.
import { afterEach, describe, expect, it, vi } from "vitest";
import { engineStatus, resetEnginePeak } from "../src/engine/instance";
import { readHeader } from "../src/image/header";
import type { Raster } from "../src/image/raster";
import { parseProcess } from "../src/process/parse";
import { planProcess } from "../src/process/plan";
import { decodeAny } from "./codecs";
import { decoded, fixture, ossError, pixel, process, upload } from "./helpers";

/** As scripts/lib/colour-images.mjs draws them: six 48x48 patches in a row. */
const PATCH = 48;
const PATCHES = 6;

/** The mean colour inside each patch (its 32x32 middle, away from the edges' compression). */
function patchMeans(image: Raster, scale = 1): number[][] {
  const side = PATCH * scale;
  const inset = Math.round(8 * scale);
  return Array.from({ length: PATCHES }, (_, patch) => {
    const sum = [0, 0, 0];
    let count = 0;
    for (let y = inset; y < side - inset; y++) {
      for (let x = patch * side + inset; x < (patch + 1) * side - inset; x++) {
        const [r, g, b] = pixel(image, Math.floor(x), Math.floor(y));
        sum[0] += r;
        sum[1] += g;
        sum[2] += b;
        count++;
      }
    }
    return sum.map((value) => value / count);
  });
}

/** Mean absolute difference per channel between two sets of patch colours. */
function meanDifference(a: number[][], b: number[][]): number {
  let total = 0;
  for (let i = 0; i < a.length; i++) for (let c = 0; c < 3; c++) total += Math.abs(a[i][c] - b[i][c]);
  return total / (a.length * 3);
}

const reference = async (name: string) => patchMeans(await decodeAny(fixture(name)));
/** The values stored in the file, read as if they were sRGB (what an unmanaged decoder shows). */
const stored = async (name: string) => patchMeans(await decodeAny(fixture(name)));

async function processed(name: string, value: string) {
  const path = await upload(name, fixture(name));
  return decoded(await process(path, value));
}

// sRGB encoding of linear light, and the sRGB primaries adapted to D50 (as Little CMS builds its
// sRGB profile), for the references computed here.
const encodeSrgb = (linear: number) =>
  255 * (linear <= 0.0031308 ? 12.92 * linear : 1.055 * linear ** (1 / 2.4) - 0.055);
const SRGB_D50 = [
  [0.4361, 0.3851, 0.1431],
  [0.2225, 0.7169, 0.0606],
  [0.0139, 0.0971, 0.7141],
];
function invert3(m: number[][]): number[][] {
  const [[a, b, c], [d, e, f], [g, h, i]] = m;
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  return [
    [(e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det],
    [(f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det],
    [(d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det],
  ];
}
const XYZ_TO_SRGB = invert3(SRGB_D50);

/** Adobe RGB (1998), D50 colorants and gamma 563/256 (as colour-images.mjs writes its profile). */
function adobeToSrgb([r, g, b]: number[]): number[] {
  const gamma = 563 / 256;
  const linear = [r, g, b].map((value) => (value / 255) ** gamma);
  const columns = [
    [0.6097, 0.3111, 0.0195],
    [0.2053, 0.6257, 0.0609],
    [0.1492, 0.0632, 0.7446],
  ];
  const xyz = [0, 1, 2].map((row) => columns.reduce((sum, column, i) => sum + column[row] * linear[i], 0));
  return XYZ_TO_SRGB.map((row) => {
    const value = row.reduce((sum, weight, i) => sum + weight * xyz[i], 0);
    return Math.min(255, Math.max(0, encodeSrgb(Math.min(1, Math.max(0, value)))));
  });
}

describe("colour profiles are converted to sRGB", () => {
  for (const [source, ref] of [
    ["colour-p3.jpg", "colour-p3.sharp.png"],
    ["colour-adobe.jpg", "colour-adobe.sharp.png"],
    ["colour-cmyk.jpg", "colour-cmyk.sharp.png"],
  ]) {
    for (const format of ["jpg", "png", "webp"]) {
      it(`${source} as ${format}: within 3 levels of sharp's colour-managed output`, async () => {
        const image = await processed(source, `image/format,${format}`);
        expect(image.format).toBe(format);
        const expected = await reference(ref);
        const difference = meanDifference(patchMeans(image), expected);
        expect(difference, `${source} → ${format}: ${JSON.stringify(patchMeans(image))}`).toBeLessThanOrEqual(
          3,
        );
      });
    }
  }

  it("a P3 photo unconverted would be visibly off (the test above can tell)", async () => {
    const unmanaged = await stored("colour-p3.jpg");
    expect(meanDifference(unmanaged, await reference("colour-p3.sharp.png"))).toBeGreaterThan(4);
  });

  it("Adobe RGB matches the profile's own arithmetic", async () => {
    const image = await processed("colour-adobe.jpg", "image/format,png");
    const expected = (await stored("colour-adobe.jpg")).map(adobeToSrgb);
    expect(meanDifference(patchMeans(image), expected)).toBeLessThanOrEqual(1.5);
  });

  it("CMYK without a profile goes through the default CMYK profile (FOGRA39), as Little CMS applies it", async () => {
    const image = await processed("colour-cmyk-bare.jpg", "image/format,png");
    const difference = meanDifference(patchMeans(image), await reference("colour-cmyk-bare.sharp.png"));
    expect(difference).toBeLessThanOrEqual(3);
  });

  it("grey with a gamma 1.8 profile matches the curve's arithmetic", async () => {
    const image = await processed("colour-grey.jpg", "image/format,png");
    const expected = (await stored("colour-grey-plain.jpg")).map(([value]) => {
      const level = encodeSrgb((value / 255) ** 1.8);
      return [level, level, level];
    });
    const means = patchMeans(image);
    expect(meanDifference(means, expected), JSON.stringify(means)).toBeLessThanOrEqual(1);
  });

  it("plain sRGB and sRGB-tagged sources come out unchanged, byte for byte the same", async () => {
    const plain = await processed("colour-plain.jpg", "image/format,png");
    const tagged = await processed("colour-srgb.jpg", "image/format,png");
    expect(tagged.bytes).toEqual(plain.bytes);
    expect(meanDifference(patchMeans(plain), await stored("colour-plain.jpg"))).toBeLessThanOrEqual(0.5);
  });

  it("a profile in several APP2 chunks is joined in order", async () => {
    const whole = await processed("colour-p3.jpg", "image/format,png");
    const chunked = await processed("colour-p3-chunked.jpg", "image/format,png");
    expect(chunked.bytes).toEqual(whole.bytes);
  });

  it("a progressive P3 thumbnail from the DC scans alone is converted too", async () => {
    // 288 px wide to 36: a 1/8 scale, read from the DC scans (wasm/src/codecs/jpeg_dc.c).
    const image = await processed("colour-p3-progressive.jpg", "image/resize,w_36/format,png");
    expect([image.width, image.height]).toEqual([36, 6]);
    const expected = await reference("colour-p3.sharp.png");
    const centres = Array.from({ length: PATCHES }, (_, patch) => pixel(image, patch * 6 + 3, 3).slice(0, 3));
    expect(meanDifference(centres, expected), JSON.stringify(centres)).toBeLessThanOrEqual(3);
  });

  it("the conversion comes before what the process draws: a pad colour is exact sRGB", async () => {
    // Read as P3, this green would become about (0, 145, 80) in sRGB.
    const image = await processed("colour-p3.jpg", "image/resize,m_pad,w_288,h_120,color_3C8C5A/format,png");
    expect(pixel(image, 10, 2)).toEqual([60, 140, 90, 255]);
  });

  it("average-hue reports the sRGB colour", async () => {
    const path = await upload("p3.jpg", fixture("colour-p3.jpg"));
    const response = await process(path, "image/average-hue");
    expect(response.status).toBe(200);
    const { RGB } = (await response.json()) as { RGB: string };
    const value = Number.parseInt(RGB.slice(2), 16);
    const actual = [(value >> 16) & 255, (value >> 8) & 255, value & 255];
    const sharpImage = await decodeAny(fixture("colour-p3.sharp.png"));
    const mean = [0, 0, 0];
    for (let i = 0; i < sharpImage.width * sharpImage.height; i++)
      for (let c = 0; c < 3; c++)
        mean[c] += sharpImage.data[i * 4 + c] / (sharpImage.width * sharpImage.height);
    for (let c = 0; c < 3; c++)
      expect(Math.abs(actual[c] - mean[c]), `${actual} against ${mean}`).toBeLessThanOrEqual(3);
  });
});

describe("broken profiles convert nothing and never fail the request", () => {
  afterEach(() => vi.restoreAllMocks());

  it("serves the pixels as stored and logs a warning under the request id", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "warn").mockImplementation((line: unknown) => {
      lines.push(String(line));
    });
    const path = await upload("broken.jpg", fixture("colour-broken.jpg"));
    const response = await process(path, "image/format,png");
    const image = await decoded(response);
    const plain = await processed("colour-plain.jpg", "image/format,png");
    expect(image.bytes).toEqual(plain.bytes);
    const warnings = lines
      .map((line) => JSON.parse(line))
      .filter((record) => record.event === "engine-warning");
    expect(warnings).toHaveLength(1);
    expect(warnings[0].requestId).toBe(response.headers.get("x-oss-request-id"));
    expect(warnings[0].message).toMatch(/ICC profile cannot be read/);
  });

  it("CMYK inks with a broken profile go through the default CMYK profile", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const bare = await processed("colour-cmyk-bare.jpg", "image/format,png");
    const broken = await processed("colour-cmyk-broken.jpg", "image/format,png");
    expect(broken.bytes).toEqual(bare.bytes);
  });

  it("a truncated source with a profile is still a 400, not a 5xx", async () => {
    const bytes = fixture("colour-p3.jpg");
    const path = await upload("cut.jpg", bytes.subarray(0, bytes.length - 200));
    const error = await ossError(await process(path, "image/format,png"));
    expect(error.status).toBe(400);
  });
});

describe("colour management at full size", () => {
  const MiB = 1024 * 1024;
  const planned = (bytes: Uint8Array, value: string) =>
    planProcess(parseProcess(value).actions, readHeader(bytes), {
      memoryBudgetBytes: 88 * MiB,
      object: () => Promise.reject(new Error("no objects here")),
      font: () => Promise.reject(new Error("no fonts here")),
    }).estimatedBytes;

  for (const [name, value] of [
    ["colour-p3-12mp.jpg", "image/format,jpg"],
    ["colour-p3-12mp.jpg", "image/resize,w_200"],
    ["colour-cmyk-12mp.jpg", "image/quality,q_80"],
    ["colour-cmyk-12mp.jpg", "image/resize,w_200"],
  ]) {
    it(`${name} ${value}: within the plan's estimate`, { timeout: 120_000 }, async () => {
      const bytes = fixture(name);
      const path = await upload(name, bytes);
      resetEnginePeak();
      const before = engineStatus().liveBytes;
      const response = await process(path, value);
      const image = await decoded(response);
      expect(image.width).toBe(value.includes("w_200") ? 200 : 4032);
      const estimate = planned(bytes, value);
      const { peakBytes, liveBytes } = engineStatus();
      expect(peakBytes - before, `peak ${peakBytes} against estimate ${estimate}`).toBeLessThanOrEqual(
        estimate,
      );
      // What stays between requests is the transform cache (a few hundred KiB), well inside the
      // headroom the budget leaves under the ceiling.
      expect(liveBytes, "resident after the request").toBeLessThanOrEqual(2.5 * MiB);
    });
  }
});
