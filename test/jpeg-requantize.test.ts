import { describe, expect, it } from "vitest";
import { engineStatus, resetEnginePeak } from "../src/engine/instance";
import { readHeader } from "../src/image/header";
import type { Plan } from "../src/process/plan";
import {
  decoded,
  decodeFile,
  fixture,
  jpegFrameType,
  ossError,
  planOf,
  process,
  psnr,
  upload,
  withOrientation,
} from "./helpers";

// A whole 4:2:0 JPEG written again as JPEG with only its quality or scans changed has its DCT
// coefficients requantised (wasm/src/codecs/jpeg.c) instead of its pixels decoded and encoded.
// The pixel path stays the reference: a resize to the image's own width forces it (a step) and
// changes nothing else.

const MiB = 1024 * 1024;
const HEAVY = { timeout: 300_000 };
/** Plans as the Worker does, under its default budget. */
const planFor = (bytes: Uint8Array, value: string): Plan => planOf(bytes, value);

/** Annex K's luminance table, in natural order. */
const ANNEX_K_LUMA = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22,
  29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103,
  121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];

/** The luminance table IJG's quality scaling gives (jcparam.c's formula, baseline-limited). */
function lumaTableAt(quality: number): number[] {
  const scale = quality < 50 ? Math.floor(5000 / quality) : 200 - quality * 2;
  return ANNEX_K_LUMA.map((value) => Math.min(255, Math.max(1, Math.floor((value * scale + 50) / 100))));
}

/** Zigzag position -> natural position, as DQT segments store tables in zigzag order. */
const ZIGZAG = [
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7,
  14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46,
  53, 60, 61, 54, 47, 55, 62, 63,
];

/** A JPEG's quantisation table 0 (natural order) and its frame's sampling factors, read from its segments. */
function jpegTables(bytes: Uint8Array): { luma?: number[]; sampling?: number[] } {
  const found: { luma?: number[]; sampling?: number[] } = {};
  let pos = 2;
  while (pos + 4 <= bytes.length && bytes[pos] === 0xff && bytes[pos + 1] !== 0xda) {
    const marker = bytes[pos + 1];
    const length = (bytes[pos + 2] << 8) | bytes[pos + 3];
    const segment = pos + 4;
    if (marker === 0xdb) {
      for (let at = segment; at < pos + 2 + length; ) {
        const precision = bytes[at] >> 4;
        const id = bytes[at] & 15;
        const values = Array.from({ length: 64 }, (_, i) =>
          precision ? (bytes[at + 1 + 2 * i] << 8) | bytes[at + 2 + 2 * i] : bytes[at + 1 + i],
        );
        if (id === 0) {
          const natural = new Array<number>(64);
          values.forEach((value, i) => {
            natural[ZIGZAG[i]] = value;
          });
          found.luma = natural;
        }
        at += 1 + 64 * (precision ? 2 : 1);
      }
    }
    if (marker === 0xc0 || marker === 0xc2) {
      const components = bytes[segment + 5];
      found.sampling = Array.from({ length: components }, (_, i) => bytes[segment + 7 + 3 * i]);
    }
    pos += 2 + length;
  }
  return found;
}

describe("JPEG requantised in the DCT domain", () => {
  it("plans it only for a whole, upright, unconverted 4:2:0 JPEG re-encoded as JPEG", async () => {
    const photo = fixture("photo.jpg");
    const { width } = readHeader(photo);
    for (const value of ["image/quality,q_80", "image/quality,Q_60", "image/format,jpg", "image/interlace,1"])
      expect(planFor(photo, value).requantize, value).toBe(true);
    for (const value of [
      `image/quality,q_80/resize,w_${width}`,
      "image/resize,w_200",
      "image/crop,w_100,h_100",
      "image/format,png",
      "image/quality,q_80/bright,10",
    ])
      expect(planFor(photo, value).requantize, value).toBe(false);
    // EXIF orientation 6 needs the pixels turned; auto-orient,0 keeps them as stored.
    const turned = withOrientation(photo, 6);
    expect(planFor(turned, "image/quality,q_80").requantize).toBe(false);
    expect(planFor(turned, "image/auto-orient,0/quality,q_80").requantize).toBe(true);
    // 4:4:4 (written 4:2:0 by the encoder) and CMYK sources take the pixel path.
    expect(planFor(fixture("progressive-dc-444.jpg"), "image/quality,q_80").requantize).toBe(false);
    expect(planFor(fixture("cmyk-quadrants.jpg"), "image/quality,q_80").requantize).toBe(false);
  });

  it(
    "writes the quality's tables, with pixels as close to the source as the pixel path's",
    HEAVY,
    async () => {
      const photo = fixture("photo.jpg");
      const { width, height, jpegQuality } = readHeader(photo);
      const path = await upload("photo.jpg", photo);
      const source = await decodeFile(photo);
      for (const [value, progressive] of [
        ["image/quality,q_80", false],
        ["image/quality,q_80/interlace,1", true],
      ] as const) {
        const fast = await decoded(await process(path, value));
        const slow = await decoded(await process(path, `${value}/resize,w_${width}`));
        expect([fast.width, fast.height]).toEqual([width, height]);
        expect(jpegFrameType(fast.bytes)).toBe(progressive ? "SOF2" : "SOF0");
        // q_80 of the source's quality (reference §11), in the encoder's Annex K tables, 4:2:0.
        const tables = jpegTables(fast.bytes);
        expect(tables.luma).toEqual(lumaTableAt(Math.round(((jpegQuality as number) * 80) / 100)));
        expect(tables.sampling).toEqual([0x22, 0x11, 0x11]);
        expect(jpegTables(slow.bytes).luma).toEqual(tables.luma);
        // The pixel path adds its own rounding, and chroma upsampled and downsampled again (a slight
        // blur): requantising skips both, so it is at least as close to the source as the pixel
        // path, and close to the pixel path itself.
        const toSource = [psnr(fast, source), psnr(slow, source)];
        expect(toSource[0], `${value}: to the source ${toSource}`).toBeGreaterThanOrEqual(toSource[1] - 0.05);
        expect(psnr(fast, slow), value).toBeGreaterThanOrEqual(42);
        // Optimised Huffman tables: no larger than the pixel path's file.
        expect(fast.bytes.length).toBeLessThanOrEqual(slow.bytes.length * 1.02);
      }
    },
  );

  it("holds the coefficients the plan counts, and no more (12 MP)", HEAVY, async () => {
    const bytes = fixture("photo-12mp.jpg");
    const path = await upload("phone.jpg", bytes);
    const plan = planFor(bytes, "image/quality,q_80");
    expect(plan.requantize).toBe(true);
    resetEnginePeak();
    const response = await process(path, "image/quality,q_80");
    expect(response.status).toBe(200);
    const output = new Uint8Array(await response.arrayBuffer());
    expect(readHeader(output)).toMatchObject({ width: 4032, height: 3024, format: "jpg" });
    const peak = engineStatus().peakBytes;
    const what = `peak ${(peak / MiB).toFixed(2)} MiB, estimate ${(plan.estimatedBytes / MiB).toFixed(2)} MiB`;
    expect(peak, what).toBeLessThanOrEqual(plan.estimatedBytes);
    expect(plan.estimatedBytes, what).toBeLessThanOrEqual(peak * 1.35 + 2 * MiB);
  });

  it("falls back to the pixel path where the coefficients would not fit the budget", async () => {
    const bytes = fixture("quadrants-50mp.jpg");
    const plan = planFor(bytes, "image/quality,q_80");
    expect(plan.requantize).toBe(false);
    expect(plan.estimatedBytes).toBeLessThan(16 * MiB);
  });

  it("answers a damaged scan as libjpeg viewers do, never with a 5xx", HEAVY, async () => {
    const photo = fixture("photo.jpg");
    const damaged = photo.slice();
    // Overwrite entropy-coded data in the middle of the scan (no marker bytes: 0x00 only).
    damaged.fill(0, Math.floor(photo.length * 0.5), Math.floor(photo.length * 0.5) + 512);
    const path = await upload("damaged.jpg", damaged);
    const response = await process(path, "image/quality,q_80");
    if (response.status === 200) {
      const image = await decoded(response);
      expect([image.width, image.height]).toEqual([readHeader(photo).width, readHeader(photo).height]);
    } else {
      const error = await ossError(response);
      expect(error.status).toBe(400);
    }
    // The next request is unharmed.
    const good = await decoded(await process(await upload("photo.jpg", photo), "image/quality,q_80"));
    expect(good.width).toBe(readHeader(photo).width);
  });
});
