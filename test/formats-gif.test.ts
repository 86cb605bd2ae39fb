import { describe, expect, it } from "vitest";
import { engineStatus, resetEnginePeak } from "../src/engine/instance";
import { readHeader } from "../src/image/header";
import type { Raster } from "../src/image/raster";
import { parseProcess } from "../src/process/parse";
import { planProcess } from "../src/process/plan";
import type { Resources } from "../src/process/types";
import { decodeGifFrames, type GifFrameSpec, readGifAnimation, writeGif } from "./gif-reference";
import { decoded, fixture, ossError, process, psnr, upload } from "./helpers";

const MiB = 1024 * 1024;
const SLOW = { timeout: 120_000 };

/** The first pixel (index into RGBA) where two rasters differ, or -1: never a diff of whole arrays. */
function firstDifference(actual: Raster, expected: Raster): number {
  if (actual.width !== expected.width || actual.height !== expected.height) return 0;
  for (let i = 0; i < expected.data.length; i++) {
    // Transparent pixels may keep any colour: only their alpha counts.
    const alpha = i - (i % 4) + 3;
    if (expected.data[alpha] === 0 && actual.data[alpha] === 0) continue;
    if (actual.data[i] !== expected.data[i]) return i >> 2;
  }
  return -1;
}

const where = (image: Raster, at: number) =>
  at < 0
    ? "identical"
    : `pixel (${at % image.width}, ${Math.floor(at / image.width)}) ${Array.from(image.data.subarray(at * 4, at * 4 + 4))}`;

async function gifBytes(response: Response): Promise<Uint8Array> {
  const bytes = new Uint8Array(await response.arrayBuffer());
  expect(response.status, new TextDecoder().decode(bytes.slice(0, 300))).toBe(200);
  expect(response.headers.get("Content-Type")).toBe("image/gif");
  return bytes;
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

/** The plan counts at least what the engine held at its peak, and not wildly more. */
async function expectPlanned(path: string, bytes: Uint8Array, value: string): Promise<Response> {
  resetEnginePeak();
  const response = await process(path, value);
  expect(response.status, value).toBe(200);
  const peak = engineStatus().peakBytes;
  const estimate = planned(bytes, value);
  expect(peak, `${value}: peak ${peak} against estimate ${estimate}`).toBeLessThanOrEqual(estimate);
  expect(estimate, `${value}: estimate ${estimate} against peak ${peak}`).toBeLessThanOrEqual(
    peak * 1.35 + 2 * MiB,
  );
  return response;
}

// A 24x16 screen: a background frame, then frames that exercise each disposal method, local
// tables, transparency and interlacing; each frame's time differs.
const W = 24;
const H = 16;
const GLOBAL = [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 0, 0, 0, 0, 255, 255, 255];
const fill = (width: number, height: number, at: (x: number, y: number) => number) =>
  Array.from({ length: width * height }, (_, i) => at(i % width, Math.floor(i / width)));
const FRAMES: GifFrameSpec[] = [
  // Quadrants of the global table's first four colours.
  { width: W, height: H, indices: fill(W, H, (x, y) => (y < 8 ? 0 : 2) + (x < 12 ? 0 : 1)), delayMs: 50 },
  // A local table, a transparent hole, then restore to background (transparent).
  {
    left: 4,
    top: 2,
    width: 10,
    height: 6,
    palette: [10, 20, 30, 200, 100, 50, 90, 90, 90, 1, 2, 3],
    transparent: 3,
    indices: fill(10, 6, (x, y) => (x > 3 && x < 6 ? 3 : (x + y) % 3)),
    delayMs: 70,
    disposal: 2,
  },
  // Interlaced, restored to the previous screen afterwards.
  {
    left: 10,
    top: 3,
    width: 9,
    height: 11,
    interlaced: true,
    indices: fill(9, 11, (x, y) => (x * 3 + y) % 6),
    delayMs: 90,
    disposal: 3,
  },
  // Kept (disposal 1), partly off the screen's right edge.
  { left: 20, top: 12, width: 8, height: 4, indices: fill(8, 4, (x) => x % 5), delayMs: 110, disposal: 1 },
  // Nothing changes: the frame only holds time.
  { left: 0, top: 0, width: 1, height: 1, indices: [5], transparent: 5, delayMs: 130 },
];
const crafted = () => writeGif({ width: W, height: H, palette: GLOBAL, loopCount: 3, frames: FRAMES });

describe("GIF in the engine", () => {
  it("composites every frame as an independent decoder does, and re-encodes them pixel for pixel", async () => {
    const source = crafted();
    const expected = [...decodeGifFrames(source)];
    expect(expected).toHaveLength(5);
    const path = await upload("crafted.gif", source);
    const bytes = await gifBytes(await process(path, "image/format,gif"));
    const frames = [...decodeGifFrames(bytes)];
    expect(frames.map((frame) => frame.delayMs)).toEqual([50, 70, 90, 110, 130]);
    expect(readGifAnimation(bytes)).toMatchObject({ width: W, height: H, loopCount: 3 });
    frames.forEach((frame, i) => {
      const at = firstDifference(frame.image, expected[i].image);
      expect(at, `frame ${i}: ${where(frame.image, at)}`).toBe(-1);
    });
    // The static outputs take the first frame, decoded exactly.
    const png = await decoded(await process(path, "image/format,png"));
    expect(firstDifference(png, expected[0].image)).toBe(-1);
  });

  it("keeps transparency that appears mid-animation (disposal to background)", async () => {
    // Frame 2 clears a pixel frame 1 drew: only disposing frame 1 can show that.
    const source = writeGif({
      width: 4,
      height: 4,
      palette: GLOBAL,
      frames: [
        { width: 4, height: 4, indices: fill(4, 4, () => 0), delayMs: 100 },
        { width: 4, height: 4, indices: fill(4, 4, (x) => (x === 1 ? 6 : 0)), transparent: 6, delayMs: 100 },
        { left: 0, top: 0, width: 4, height: 4, indices: fill(4, 4, () => 1), delayMs: 100, disposal: 2 },
        { width: 2, height: 1, indices: [6, 6], transparent: 6, delayMs: 100 },
      ],
    });
    const expected = [...decodeGifFrames(source)];
    const path = await upload("clears.gif", source);
    const frames = [...decodeGifFrames(await gifBytes(await process(path, "image/format,gif")))];
    expect(frames).toHaveLength(4);
    frames.forEach((frame, i) => {
      expect(firstDifference(frame.image, expected[i].image), `frame ${i}`).toBe(-1);
    });
    // Frame 4 shows the screen cleared by frame 3's disposal.
    expect(frames[3].image.data[3]).toBe(0);
  });

  it("decodes a 2,000-frame animation one frame at a time", SLOW, async () => {
    const frames = Array.from({ length: 2000 }, (_, i) => ({
      left: i % 32,
      top: Math.floor(i / 32) % 16,
      width: 1,
      height: 1,
      indices: [i % 2],
      delayMs: 20,
    }));
    const source = writeGif({ width: 32, height: 16, palette: GLOBAL, loopCount: 0, frames });
    const path = await upload("many.gif", source);
    const bytes = await gifBytes(await expectPlanned(path, source, "image/resize,w_16"));
    const out = [...decodeGifFrames(bytes)];
    expect(out).toHaveLength(2000);
    expect(readGifAnimation(bytes).loopCount).toBe(0);
  });

  it("writes a 24-frame animation resized to w_200 in at most 1.5x sharp's bytes", SLOW, async () => {
    const source = fixture("anim-480x270-24.gif");
    const sharpBytes = fixture("anim-480x270-24-sharp-w200.gif").length;
    const path = await upload("anim24.gif", source);
    const bytes = await gifBytes(await expectPlanned(path, source, "image/resize,w_200"));
    const frames = [...decodeGifFrames(bytes)];
    expect(frames).toHaveLength(24);
    expect(frames.every((frame) => frame.delayMs === 100)).toBe(true);
    expect([frames[0].image.width, frames[0].image.height]).toEqual([200, 113]);
    expect(bytes.length, `${bytes.length} B against sharp's ${sharpBytes}`).toBeLessThanOrEqual(
      1.5 * sharpBytes,
    );
    // Still the same pictures: the last frame against sharp's (its palette and dithering differ).
    const sharpFrames = [...decodeGifFrames(fixture("anim-480x270-24-sharp-w200.gif"))];
    expect(psnr(frames[23].image, sharpFrames[23].image)).toBeGreaterThan(30);
  });

  it("re-encodes an unchanged animation in about the source's bytes, every pixel kept", SLOW, async () => {
    const source = fixture("anim-480x270-24.gif");
    const path = await upload("anim24-same.gif", source);
    const bytes = await gifBytes(await expectPlanned(path, source, "image/format,gif"));
    expect(bytes.length, `${bytes.length} B against the source's ${source.length}`).toBeLessThanOrEqual(
      1.1 * source.length,
    );
    const expected = [...decodeGifFrames(source)];
    const frames = [...decodeGifFrames(bytes)];
    expect(frames).toHaveLength(24);
    for (const i of [0, 1, 12, 23]) {
      const at = firstDifference(frames[i].image, expected[i].image);
      expect(at, `frame ${i}: ${where(frames[i].image, at)}`).toBe(-1);
    }
  });

  it("plans what a still GIF and a GIF to PNG hold", async () => {
    const source = fixture("anim-480x270-24.gif");
    const path = await upload("anim24-still.gif", source);
    for (const value of [
      "image/resize,p_50",
      "image/rotate,90",
      "image/format,png",
      "image/crop,w_100,h_100",
    ]) {
      await expectPlanned(path, source, value);
    }
  });

  it("answers damaged GIFs with 400", async () => {
    const source = crafted();
    const corrupt = source.slice();
    // The first frame's first code after its clear: 7 is past the table (only 6 colours + 2).
    const dataAt = source.indexOf(0x2c) + 10;
    corrupt[dataAt + 2] = 0xff;
    const noFrames = writeGif({ width: 4, height: 4, palette: GLOBAL, frames: [] });
    const huge = writeGif({
      width: 2,
      height: 2,
      palette: GLOBAL,
      frames: [{ width: 2, height: 2, indices: [0, 1, 2, 3] }],
    });
    // A frame claiming 65,535 x 65,535 pixels on a 2 x 2 screen: decoding it would take minutes.
    const hugeAt = huge.indexOf(0x2c);
    huge.set([0xff, 0xff, 0xff, 0xff], hugeAt + 5);
    for (const [name, bytes] of [
      ["truncated.gif", source.slice(0, source.length - 40)],
      ["corrupt.gif", corrupt],
      ["no-frames.gif", noFrames],
      ["huge-frame.gif", huge],
    ] as const) {
      const path = await upload(name, bytes);
      const error = await ossError(await process(path, "image/format,gif"));
      expect(error, name).toMatchObject({ status: 400, code: "BadRequest" });
    }
  });
});
