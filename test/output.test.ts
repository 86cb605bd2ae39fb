import { describe, expect, it } from "vitest";
import { readHeader } from "../src/image/header";
import {
  decoded,
  encode,
  expectColour,
  jpegFrameType,
  makeRaster,
  ossError,
  process,
  quadrants,
  RED,
  upload,
} from "./helpers";

const transparentLeft = () => makeRaster(40, 20, (x) => (x < 20 ? [0, 0, 0, 0] : [255, 0, 0, 255]));

describe("format", () => {
  it("keeps the source format when no format is given", async () => {
    for (const kind of ["jpg", "png", "webp", "avif"] as const) {
      const path = await upload(`keep.${kind}`, await encode[kind](quadrants(64, 48)));
      const out = await decoded(await process(path, "image/resize,w_32"));
      expect(out.format, kind).toBe(kind);
    }
  });

  it("converts to jpg (alias jpeg), png, webp and avif with the right Content-Type", async () => {
    const path = await upload("conv.png", await encode.png(quadrants(64, 48)));
    const cases = [
      ["jpg", "jpg", "image/jpeg"],
      ["jpeg", "jpg", "image/jpeg"],
      ["png", "png", "image/png"],
      ["webp", "webp", "image/webp"],
      ["avif", "avif", "image/avif"],
    ];
    for (const [value, format, mime] of cases) {
      const res = await process(path, `image/format,${value}`);
      expect(res.headers.get("Content-Type"), value).toBe(mime);
      const out = await decoded(res);
      expect([out.format, out.width, out.height]).toEqual([format, 64, 48]);
      expectColour(out, 8, 8, RED, 40);
    }
  });

  it("flattens alpha onto white for JPEG and keeps it for PNG/WebP/AVIF", async () => {
    const path = await upload("alpha.png", await encode.png(transparentLeft()));
    const jpg = await decoded(await process(path, "image/format,jpg"));
    expectColour(jpg, 5, 10, [255, 255, 255, 255], 6);
    expectColour(jpg, 35, 10, RED);
    for (const format of ["png", "webp", "avif"]) {
      const out = await decoded(await process(path, `image/format,${format}`));
      expect(out.data[(10 * 40 + 5) * 4 + 3], format).toBeLessThan(8);
      expect(out.data[(10 * 40 + 35) * 4 + 3], format).toBeGreaterThan(247);
    }
  });

  it("keeps GIF's rule: format,gif leaves a non-GIF source in its own format", async () => {
    const path = await upload("nogif.png", await encode.png(quadrants(40, 20)));
    const out = await decoded(await process(path, "image/format,gif"));
    expect(out.format).toBe("png");
    const jpg = await upload("nogif.jpg", await encode.jpg(quadrants(40, 20)));
    expect((await decoded(await process(jpg, "image/format,png/format,gif"))).format).toBe("jpg");
  });

  it("names output formats it cannot write, and rejects unknown ones", async () => {
    const path = await upload("f.png", await encode.png(quadrants(40, 20)));
    for (const value of ["tiff", "heic"]) {
      const error = await ossError(await process(path, `image/format,${value}`));
      expect(error).toMatchObject({ status: 400, code: "InvalidArgument" });
      expect(error.message).toContain(value);
    }
    for (const value of ["jpg2", "svg", "JPG"]) {
      expect(await ossError(await process(path, `image/format,${value}`))).toMatchObject({
        code: "InvalidArgument",
      });
    }
  });
});

describe("interlace", () => {
  it("makes progressive JPEG (SOF2) with interlace,1 and baseline (SOF0) otherwise", async () => {
    const path = await upload("i.jpg", await encode.jpg(quadrants(120, 80)));
    const progressive = await decoded(await process(path, "image/resize,w_60/interlace,1"));
    expect(jpegFrameType(progressive.bytes)).toBe("SOF2");
    const baseline = await decoded(await process(path, "image/resize,w_60"));
    expect(jpegFrameType(baseline.bytes)).toBe("SOF0");
    const explicit = await decoded(await process(path, "image/interlace,0"));
    expect(jpegFrameType(explicit.bytes)).toBe("SOF0");
  });

  it("applies to PNG sources converted to JPEG", async () => {
    const path = await upload("i.png", await encode.png(quadrants(120, 80)));
    const out = await decoded(await process(path, "image/format,jpg/interlace,1"));
    expect([out.format, jpegFrameType(out.bytes)]).toEqual(["jpg", "SOF2"]);
  });

  it("validates the value", async () => {
    const path = await upload("iv.jpg", await encode.jpg(quadrants(40, 20)));
    for (const value of ["2", "yes", "p_1"]) {
      expect(await ossError(await process(path, `image/interlace,${value}`))).toMatchObject({
        code: "InvalidArgument",
      });
    }
  });
});

describe("quality", () => {
  /** A noisy image, so that quality changes the size of the output. */
  const noise = () =>
    makeRaster(128, 128, (x, y) => {
      const v = (x * 7919 + y * 104729) % 251;
      return [v, (v * 3) % 256, (v * 7) % 256, 255];
    });
  const qualityOf = (bytes: Uint8Array) => readHeader(bytes).jpegQuality;

  it("q is relative to the source JPEG's quality, Q absolute but never above the source", async () => {
    const path = await upload("q80.jpg", await encode.jpg(noise(), 80));
    const relative = await decoded(await process(path, "image/quality,q_50"));
    expect(qualityOf(relative.bytes)).toBe(40);
    const absolute = await decoded(await process(path, "image/quality,Q_50"));
    expect(qualityOf(absolute.bytes)).toBe(50);
    const capped = await decoded(await process(path, "image/quality,Q_95"));
    expect(qualityOf(capped.bytes)).toBe(80);
    const both = await decoded(await process(path, "image/quality,q_50,Q_70"));
    expect(qualityOf(both.bytes)).toBe(70);
  });

  it("treats q as absolute for sources without a JPEG quality, and lowers WebP size", async () => {
    const path = await upload("q.png", await encode.png(noise()));
    const jpg = await decoded(await process(path, "image/format,jpg/quality,q_30"));
    expect(qualityOf(jpg.bytes)).toBe(30);
    const high = await decoded(await process(path, "image/format,webp/quality,Q_95"));
    const low = await decoded(await process(path, "image/format,webp/quality,Q_20"));
    expect(low.bytes.length).toBeLessThan(high.bytes.length);
  });

  it("accepts lossless for WebP", async () => {
    const image = noise();
    const path = await upload("ll.png", await encode.png(image));
    const out = await decoded(await process(path, "image/format,webp/quality,Q_lossless"));
    expect(out.format).toBe("webp");
    expect(Array.from(out.data.subarray(0, 64))).toEqual(Array.from(image.data.subarray(0, 64)));
  });

  it("validates q and Q", async () => {
    const path = await upload("qv.jpg", await encode.jpg(quadrants(40, 20)));
    for (const value of ["q_0", "q_101", "Q_-5", "Q_abc", "x_5", "90"]) {
      expect(await ossError(await process(path, `image/quality,${value}`)), value).toMatchObject({
        code: "InvalidArgument",
      });
    }
    expect(await ossError(await process(path, "image/quality"))).toMatchObject({ code: "MissingArgument" });
  });
});
