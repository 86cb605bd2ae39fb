import { describe, expect, it } from "vitest";
import { ENGINE_MEMORY_BYTES, engineStatus, resetEnginePeak, withEngine } from "../src/engine/instance";
import { OP, op } from "../src/engine/ops";
import { EngineSession } from "../src/engine/session";
import { captureOp } from "../src/engine/stages";
import { readHeader } from "../src/image/header";
import {
  BLUE,
  decoded,
  expectColour,
  fixture,
  GREEN,
  ossError,
  process,
  RED,
  upload,
  YELLOW,
} from "./helpers";

// Progressive JPEGs at 1/8 come from their DC scans alone (wasm/src/codecs/jpeg_dc.c). The small
// fixtures were made with libjpeg-turbo's jpegtran (Debian's libjpeg-turbo-progs) from 203x131
// q88 JPEGs of the synthetic photo (sharp, 4:2:0, 4:4:4 and grey), odd sizes so the right and
// bottom MCUs are partial:
//   progressive-dc-420.jpg, -444, -grey   jpegtran -progressive
//   progressive-dc-restart.jpg            jpegtran -progressive -restart 2     (every 2 MCU rows)
//   progressive-dc-restart-1b.jpg         jpegtran -progressive -restart 1B    (every MCU)
//   progressive-dc-y-first.jpg            jpegtran -progressive -scans <file>: Y's DC scan first,
//                                         then Y AC, chroma DC, chroma AC, and a DC refinement
//                                         (0: 0 0 0 1; 0: 1 5 0 2; 1 2: 0 0 0 1; 2: 1 63 0 1;
//                                         1: 1 63 0 1; 0: 6 63 0 2; 0: 1 63 2 1; 0 1 2: 0 0 1 0; …)
//   sequential-multiscan.jpg              jpegtran -scans <file>: baseline, one scan per component
//                                         with all its coefficients (no DC-only scan to use)

/**
 * The 1/8 image of a JPEG from the engine: its DC scans alone, or libjpeg decoding every scan.
 * `size` for files the header reader refuses (cut short).
 */
function decodeEighth(
  bytes: Uint8Array,
  dcOnly: boolean,
  region?: { x: number; y: number; w: number; h: number },
  size: { width: number; height: number } = readHeader(bytes),
) {
  const width = Math.ceil(size.width / 8);
  const height = Math.ceil(size.height / 8);
  const { x, y, w, h } = region ?? { x: 0, y: 0, w: width, h: height };
  const call = withEngine([bytes], (engine) => {
    const session = new EngineSession(engine);
    try {
      const decode = op(OP.DECODE_JPEG, "decode", 0, 0, 8, x, y, w, h, dcOnly ? 1 : 0);
      const { pointer } = session.run([decode, captureOp({ width: w, height: h })]);
      return session.pixels({ pointer, width: w, height: h });
    } finally {
      session.close();
    }
  });
  return call.result;
}

/** Where two byte arrays first differ (-1 when equal). */
function firstDifference(a: Uint8Array | Uint8ClampedArray, b: Uint8Array | Uint8ClampedArray): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

const PROGRESSIVE = [
  "progressive-dc-420.jpg",
  "progressive-dc-444.jpg",
  "progressive-dc-grey.jpg",
  "progressive-dc-restart.jpg",
  "progressive-dc-restart-1b.jpg",
  "progressive-dc-y-first.jpg",
];

describe("progressive JPEG thumbnails from the DC scans", () => {
  it("gives the pixels of a decode of every scan, to the byte", () => {
    for (const name of PROGRESSIVE) {
      const bytes = fixture(name);
      expect(readHeader(bytes).jpegDcScalable, name).toBe(true);
      const full = decodeEighth(bytes, false);
      const dc = decodeEighth(bytes, true);
      expect(full.length, name).toBe(Math.ceil(203 / 8) * Math.ceil(131 / 8) * 4);
      expect(firstDifference(dc, full), name).toBe(-1);
      // A region of it, partial edge MCUs included.
      const region = { x: 7, y: 5, w: 19, h: 12 };
      expect(
        firstDifference(decodeEighth(bytes, true, region), decodeEighth(bytes, false, region)),
        name,
      ).toBe(-1);
    }
  });

  it("agrees with libjpeg on a file cut short after its last DC scan", () => {
    // Cut earlier, libjpeg-turbo smooths the DC values of the block rows its current scan has not
    // reached yet (a preview for a file still arriving), where this decoder shows the values as
    // sent. The service never decodes a cut file: truncated JPEGs are refused before decoding.
    // jpegtran writes the DC refinement scan 54% into this file.
    const bytes = fixture("progressive-dc-420.jpg");
    const size = readHeader(bytes);
    for (const fraction of [0.55, 0.6, 0.7, 0.8, 0.95]) {
      const cut = bytes.slice(0, Math.floor(bytes.length * fraction));
      const dc = decodeEighth(cut, true, undefined, size);
      expect(firstDifference(dc, decodeEighth(cut, false, undefined, size)), `${fraction}`).toBe(-1);
      expect(firstDifference(dc, decodeEighth(bytes, true)), `${fraction}`).toBe(-1);
    }
    // Cut inside the DC scan itself: what arrived is decoded, the rest stays mid-grey.
    const early = decodeEighth(bytes.slice(0, 520), true, undefined, size);
    expect(
      firstDifference(
        early.slice(0, 8),
        decodeEighth(bytes.slice(0, 5593), true, undefined, size).slice(0, 8),
      ),
    ).toBe(-1);
    expect(Array.from(early.slice(-4))).toEqual([128, 128, 128, 255]);
  });

  it("refuses a truncated progressive JPEG as damaged, before decoding", async () => {
    const bytes = fixture("progressive-dc-420.jpg");
    for (const length of [900, Math.floor(bytes.length / 2)]) {
      const path = await upload("cut.jpg", bytes.slice(0, length));
      const error = await ossError(await process(path, "image/resize,w_20"));
      expect(error, `${length} bytes`).toMatchObject({ status: 400, code: "BadRequest" });
      expect(error.message).toContain("truncated");
    }
  });

  it("leaves JPEGs with no DC-only scan to libjpeg: a baseline in one scan per component", async () => {
    const bytes = fixture("sequential-multiscan.jpg");
    expect(readHeader(bytes).jpegDcScalable).toBe(false);
    expect(() => decodeEighth(bytes, true)).toThrow(/progressive Huffman JPEGs only/);
    const path = await upload("sequential.jpg", bytes);
    const image = await decoded(await process(path, "image/resize,w_25"));
    expect([image.width, image.height]).toEqual([25, 16]);
  });

  it("refuses a damaged DC scan header with BadRequest", () => {
    const bytes = fixture("progressive-dc-420.jpg").slice();
    // The first SOS's spectral selection: Ss 0, Se 5 makes it a DC scan with AC coefficients.
    for (let i = 2; i + 1 < bytes.length; i++) {
      if (bytes[i] === 0xff && bytes[i + 1] === 0xda) {
        const count = bytes[i + 4];
        bytes[i + 5 + 2 * count + 1] = 5;
        break;
      }
    }
    expect(() => decodeEighth(bytes, true)).toThrow(/DC scan with AC coefficients/);
  });

  it("makes a 48-megapixel progressive photo's thumbnail in a few MiB", async () => {
    const path = await upload("big-progressive.jpg", fixture("quadrants-48mp-progressive.jpg"));
    resetEnginePeak();
    const image = await decoded(await process(path, "image/resize,w_200"));
    expect([image.width, image.height]).toEqual([200, 150]);
    expectColour(image, 50, 37, RED);
    expectColour(image, 150, 37, GREEN);
    expectColour(image, 50, 112, BLUE);
    expectColour(image, 150, 112, YELLOW);
    // 750,000 blocks of 2 bytes and a few rows, against 144 MiB of coefficients for every scan.
    expect(engineStatus().peakBytes).toBeLessThan(8 * 1024 * 1024);
    expect(engineStatus().memoryBytes).toBeLessThanOrEqual(ENGINE_MEMORY_BYTES);
  });
});
