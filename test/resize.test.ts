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

const sizeOf = async (path: string, value: string) => {
  const out = await decoded(await process(path, value));
  return [out.width, out.height];
};

describe("resize", () => {
  it("matches the reference's worked example on 200x100 (w_150,h_80)", async () => {
    const path = await upload("200x100.png", await encode.png(quadrants(200, 100)));
    expect(await sizeOf(path, "image/resize,m_lfit,w_150,h_80")).toEqual([150, 75]);
    expect(await sizeOf(path, "image/resize,m_mfit,w_150,h_80")).toEqual([160, 80]);
    expect(await sizeOf(path, "image/resize,m_fill,w_150,h_80")).toEqual([150, 80]);
    expect(await sizeOf(path, "image/resize,m_pad,w_150,h_80")).toEqual([150, 80]);
    expect(await sizeOf(path, "image/resize,m_fixed,w_150,h_80")).toEqual([150, 80]);
    expect(await sizeOf(path, "image/resize,w_150,h_80")).toEqual([150, 75]);
  });

  it("matches the second worked example on 400x300 (w_100,h_100): fill crops, pad fills with color", async () => {
    const path = await upload("400x300.png", await encode.png(quadrants(400, 300)));
    expect(await sizeOf(path, "image/resize,m_fixed,w_100,h_100")).toEqual([100, 100]);

    const fill = await decoded(await process(path, "image/resize,m_fill,w_100,h_100"));
    expect([fill.width, fill.height]).toEqual([100, 100]);
    // 133x100 centre-cropped: the corners keep their quadrant colours.
    expectColour(fill, 5, 5, RED);
    expectColour(fill, 94, 94, YELLOW);

    const pad = await decoded(await process(path, "image/resize,m_pad,w_100,h_100,color_FF0000"));
    expect([pad.width, pad.height]).toEqual([100, 100]);
    // 100x75 centred: 12 rows of red padding above, 13 below; the image between.
    expectColour(pad, 70, 2, RED, 0);
    expectColour(pad, 70, 98, RED, 0);
    expectColour(pad, 70, 20, GREEN);
    expectColour(pad, 30, 80, BLUE);
  });

  it("pads with white by default", async () => {
    const path = await upload("pad.png", await encode.png(quadrants(400, 200)));
    const pad = await decoded(await process(path, "image/resize,m_pad,w_100,h_100"));
    expectColour(pad, 50, 3, [255, 255, 255, 255], 0);
  });

  it("derives the other side by ratio for lfit/mfit, and uses a square box for fixed/fill/pad", async () => {
    const path = await upload("ratio.png", await encode.png(quadrants(400, 200)));
    expect(await sizeOf(path, "image/resize,w_100")).toEqual([100, 50]);
    expect(await sizeOf(path, "image/resize,h_50")).toEqual([100, 50]);
    expect(await sizeOf(path, "image/resize,m_mfit,h_50")).toEqual([100, 50]);
    expect(await sizeOf(path, "image/resize,m_fixed,w_100")).toEqual([100, 100]);
    expect(await sizeOf(path, "image/resize,m_fill,h_80")).toEqual([80, 80]);
    expect(await sizeOf(path, "image/resize,m_pad,w_120")).toEqual([120, 120]);
  });

  it("rounds the derived side to the nearest integer", async () => {
    const path = await upload("round.png", await encode.png(quadrants(300, 200)));
    expect(await sizeOf(path, "image/resize,w_100")).toEqual([100, 67]);
    expect(await sizeOf(path, "image/resize,w_1")).toEqual([1, 1]);
  });

  it("reads l as the longer source side and s as the shorter", async () => {
    const landscape = await upload("l.png", await encode.png(quadrants(400, 200)));
    expect(await sizeOf(landscape, "image/resize,l_100")).toEqual([100, 50]);
    expect(await sizeOf(landscape, "image/resize,s_50")).toEqual([100, 50]);
    expect(await sizeOf(landscape, "image/resize,l_100,s_100")).toEqual([100, 50]);
    const portrait = await upload("p.png", await encode.png(quadrants(200, 400)));
    expect(await sizeOf(portrait, "image/resize,l_100")).toEqual([50, 100]);
    expect(await sizeOf(portrait, "image/resize,s_100")).toEqual([100, 200]);
    // w/h win over l/s.
    expect(await sizeOf(portrait, "image/resize,w_20,l_100")).toEqual([20, 40]);
  });

  it("scales by p, and lets w/h win over p", async () => {
    const path = await upload("p.png", await encode.png(quadrants(200, 100)));
    expect(await sizeOf(path, "image/resize,p_50")).toEqual([100, 50]);
    expect(await sizeOf(path, "image/resize,p_150")).toEqual([300, 150]);
    expect(await sizeOf(path, "image/resize,w_40,p_50")).toEqual([40, 20]);
  });

  it("does not enlarge by default (limit_1) and enlarges with limit_0", async () => {
    const path = await upload("small.png", await encode.png(quadrants(100, 50)));
    expect(await sizeOf(path, "image/resize,w_400")).toEqual([100, 50]);
    expect(await sizeOf(path, "image/resize,w_400,limit_1")).toEqual([100, 50]);
    expect(await sizeOf(path, "image/resize,w_400,limit_0")).toEqual([400, 200]);
    expect(await sizeOf(path, "image/resize,m_fixed,w_300,h_300")).toEqual([100, 50]);
  });

  it("keeps colours where they were", async () => {
    const path = await upload("colours.jpg", await encode.jpg(quadrants(400, 300)));
    const out = await decoded(await process(path, "image/resize,w_100"));
    expectColour(out, 10, 10, RED);
    expectColour(out, 90, 10, GREEN);
    expectColour(out, 10, 65, BLUE);
    expectColour(out, 90, 65, YELLOW);
  });

  it("keeps alpha through a resize of a PNG", async () => {
    const half = makeRaster(64, 64, (x) => (x < 32 ? [255, 0, 0, 255] : [0, 0, 0, 0]));
    const path = await upload("alpha.png", await encode.png(half));
    const out = await decoded(await process(path, "image/resize,w_32"));
    expect(out.format).toBe("png");
    expectColour(out, 4, 16, RED, 2);
    expect(out.data[(16 * 32 + 28) * 4 + 3]).toBe(0);
  });

  it("validates every parameter", async () => {
    const path = await upload("v.png", await encode.png(quadrants(40, 20)));
    for (const bad of [
      "w_0",
      "w_16385",
      "h_-1",
      "w_abc",
      "l_0",
      "s_16385",
      "p_0",
      "p_1001",
      "m_zoom,w_10",
      "limit_2,w_10",
      "color_GGGGGG,w_10",
      "color_FFF,w_10",
      "w_10,q_5",
      "100",
    ]) {
      const res = await process(path, `image/resize,${bad}`);
      expect(await ossError(res), bad).toMatchObject({ status: 400, code: "InvalidArgument" });
    }
    expect(await ossError(await process(path, "image/resize"))).toMatchObject({ code: "MissingArgument" });
    expect(await ossError(await process(path, "image/resize,m_fill"))).toMatchObject({
      code: "MissingArgument",
    });
  });

  it("refuses a result over the output limits with ImageTooLarge", async () => {
    const path = await upload("limit.png", await encode.png(quadrants(40, 20)));
    const res = await process(path, "image/resize,m_fixed,w_16384,h_16384,limit_0");
    expect(await ossError(res)).toMatchObject({ status: 400, code: "ImageTooLarge" });
    const webp = await process(path, "image/resize,m_fixed,w_16384,h_10,limit_0/format,webp");
    expect(await ossError(webp)).toMatchObject({ status: 400, code: "ImageTooLarge" });
  });
});
