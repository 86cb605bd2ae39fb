import { describe, expect, it } from "vitest";
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
