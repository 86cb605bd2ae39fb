import { describe, expect, it } from "vitest";
import type { Raster, Rgba } from "../src/image/raster";
import { decoded, encode, expectColour, makeRaster, ossError, process, upload } from "./helpers";

const grey = (value: number): Rgba => [value, value, value, 255];

/** A horizontal grey ramp from 32 to 220 with a little colour: every channel value is mid-range. */
const ramp = () =>
  makeRaster(64, 32, (x, y) => {
    const v = 32 + Math.round((x * 188) / 63);
    return [v, Math.min(255, v + (y % 4)), Math.max(0, v - 10), 255];
  });

/** Dark left half, light right half, a hard edge between x = 31 and x = 32. */
const EDGE_X = 32;
const edge = (dark = 40, light = 210) => makeRaster(64, 32, (x) => grey(x < EDGE_X ? dark : light));

/** The same edge, but softened over a few pixels, as a photo's edges are. */
const softEdge = () =>
  makeRaster(64, 32, (x) => {
    const t = Math.min(1, Math.max(0, (x - 28) / 8));
    return grey(Math.round(70 + t * 110));
  });

/** Transparent (stored as black) left half, opaque red right half. */
const transparentLeft = () => makeRaster(64, 32, (x) => (x < EDGE_X ? [0, 0, 0, 0] : [220, 30, 30, 255]));

/** Mean and standard deviation over R, G and B of every pixel. */
function stats(image: Raster): { mean: number; std: number } {
  let sum = 0;
  let squares = 0;
  let count = 0;
  for (let i = 0; i < image.data.length; i += 4) {
    for (let c = 0; c < 3; c++) {
      const v = image.data[i + c];
      sum += v;
      squares += v * v;
      count++;
    }
  }
  const mean = sum / count;
  return { mean, std: Math.sqrt(squares / count - mean * mean) };
}

/** Red channel at (x, mid-height). */
const red = (image: Raster, x: number) => image.data[((image.height >> 1) * image.width + x) * 4];

/** The largest step in the red channel between neighbours along the middle row. */
function steepest(image: Raster): number {
  let largest = 0;
  for (let x = 1; x < image.width; x++)
    largest = Math.max(largest, Math.abs(red(image, x) - red(image, x - 1)));
  return largest;
}

function alphaOf(image: Raster): number[] {
  const alpha: number[] = [];
  for (let i = 3; i < image.data.length; i += 4) alpha.push(image.data[i]);
  return alpha;
}

async function expectRejected(path: string, values: string[], code: string) {
  for (const value of values) {
    const error = await ossError(await process(path, `image/${value}`));
    expect(error, value).toMatchObject({ status: 400, code });
  }
}

describe("bright", () => {
  it("adds v * 255 / 100 to every colour channel: >0 brighter, <0 darker, sizes unchanged", async () => {
    const source = ramp();
    const path = await upload("bright.png", await encode.png(source));
    const before = stats(source);
    const up = await decoded(await process(path, "image/bright,50"));
    const down = await decoded(await process(path, "image/bright,-50"));
    expect([up.width, up.height, up.format]).toEqual([64, 32, "png"]);
    expect([down.width, down.height]).toEqual([64, 32]);
    expect(stats(up).mean).toBeGreaterThan(before.mean + 40);
    expect(stats(down).mean).toBeLessThan(before.mean - 40);
    // 32 + round(20 * 255 / 100) = 83, exactly, on the first pixel's red.
    const exact = await decoded(await process(path, "image/bright,20"));
    expect(red(exact, 0)).toBe(32 + 51);
    expect(red(await decoded(await process(path, "image/bright,-20")), 0)).toBe(0);
  });

  it("leaves pixels exactly as they were at 0", async () => {
    const source = ramp();
    const path = await upload("bright0.png", await encode.png(source));
    const out = await decoded(await process(path, "image/bright,0"));
    expect(Array.from(out.data)).toEqual(Array.from(source.data));
  });

  it("accepts both ends of [-100, 100]: white and black", async () => {
    const path = await upload("brightends.png", await encode.png(ramp()));
    const white = await decoded(await process(path, "image/bright,100"));
    expect(stats(white)).toEqual({ mean: 255, std: 0 });
    const black = await decoded(await process(path, "image/bright,-100"));
    expect(stats(black)).toEqual({ mean: 0, std: 0 });
  });

  it("works on a JPEG source and keeps its format", async () => {
    const path = await upload("bright.jpg", await encode.jpg(edge()));
    const out = await decoded(await process(path, "image/bright,30"));
    expect([out.format, out.width, out.height]).toEqual(["jpg", 64, 32]);
    expectColour(out, 10, 16, grey(40 + 77), 6);
  });

  it("rejects values outside [-100, 100], non-integers, named parameters and no value", async () => {
    const path = await upload("brightbad.png", await encode.png(ramp()));
    await expectRejected(
      path,
      ["bright,101", "bright,-101", "bright,abc", "bright,1.5", "bright,v_10", "bright", "bright,10,20"],
      "InvalidArgument",
    );
  });
});

describe("contrast", () => {
  it("spreads values away from mid-grey for v > 0 and pulls them in for v < 0", async () => {
    const source = ramp();
    const path = await upload("contrast.png", await encode.png(source));
    const before = stats(source).std;
    const more = await decoded(await process(path, "image/contrast,50"));
    const less = await decoded(await process(path, "image/contrast,-50"));
    expect([more.width, more.height, less.width, less.height]).toEqual([64, 32, 64, 32]);
    expect(stats(more).std).toBeGreaterThan(before * 1.3);
    expect(stats(less).std).toBeLessThan(before * 0.7);
    expect(stats(less).std).toBeGreaterThan(0);
  });

  it("keeps mid-grey fixed at every strength", async () => {
    const path = await upload("contrastmid.png", await encode.png(edge(128, 200)));
    for (const value of [-60, 30, 90]) {
      const out = await decoded(await process(path, `image/contrast,${value}`));
      expect(red(out, 5), String(value)).toBe(128);
    }
  });

  it("gives flat mid-grey at -100, a near threshold at 100, and no change at 0", async () => {
    const source = ramp();
    const path = await upload("contrastends.png", await encode.png(source));
    const flat = await decoded(await process(path, "image/contrast,-100"));
    expect(stats(flat)).toEqual({ mean: 128, std: 0 });
    const strong = await decoded(await process(path, "image/contrast,100"));
    const values = new Set(Array.from(strong.data));
    expect([...values].every((v) => v === 0 || v === 255 || (v > 100 && v < 160))).toBe(true);
    const same = await decoded(await process(path, "image/contrast,0"));
    expect(Array.from(same.data)).toEqual(Array.from(source.data));
  });

  it("rejects values outside [-100, 100] and non-integers", async () => {
    const path = await upload("contrastbad.png", await encode.png(ramp()));
    await expectRejected(
      path,
      ["contrast,101", "contrast,-101", "contrast,x", "contrast,2e1", "contrast,c_10", "contrast"],
      "InvalidArgument",
    );
  });
});

describe("sharpen", () => {
  it("steepens a soft edge and raises contrast around it, more for larger values", async () => {
    const source = softEdge();
    const path = await upload("sharpen.png", await encode.png(source));
    const mild = await decoded(await process(path, "image/sharpen,50"));
    const usual = await decoded(await process(path, "image/sharpen,100"));
    const strong = await decoded(await process(path, "image/sharpen,399"));
    for (const out of [mild, usual, strong]) expect([out.width, out.height]).toEqual([64, 32]);
    expect(steepest(usual)).toBeGreaterThan(steepest(source));
    expect(stats(usual).std).toBeGreaterThan(stats(source).std);
    expect(steepest(mild)).toBeLessThan(steepest(usual));
    expect(steepest(usual)).toBeLessThan(steepest(strong));
    // The unsharp mask overshoots: darker than the dark side just before the edge, lighter after.
    expect(red(strong, 27)).toBeLessThan(70);
    expect(red(strong, 37)).toBeGreaterThan(180);
    // Flat areas far from the edge stay as they were.
    expect([red(strong, 5), red(strong, 60)]).toEqual([70, 180]);
  });

  it("rejects values outside [50, 399] and non-integers", async () => {
    const path = await upload("sharpenbad.png", await encode.png(softEdge()));
    await expectRejected(
      path,
      ["sharpen,49", "sharpen,400", "sharpen,0", "sharpen,-100", "sharpen,abc", "sharpen,s_100", "sharpen"],
      "InvalidArgument",
    );
  });
});

describe("blur", () => {
  it("softens a hard edge, more with larger s and r, and leaves flat areas alone", async () => {
    const source = edge();
    const path = await upload("blur.png", await encode.png(source));
    const across = (image: Raster) => red(image, EDGE_X) - red(image, EDGE_X - 1);
    const small = await decoded(await process(path, "image/blur,r_3,s_2"));
    expect([small.width, small.height, small.format]).toEqual([64, 32, "png"]);
    expect(across(source)).toBe(170);
    expect(across(small)).toBeLessThan(100);
    expect(across(small)).toBeGreaterThan(0);
    // Larger s with the same r, and larger r with the same s, both blur more.
    const wider = await decoded(await process(path, "image/blur,r_10,s_5"));
    expect(across(wider)).toBeLessThan(across(small));
    expect(red(wider, EDGE_X - 6)).toBeGreaterThan(red(small, EDGE_X - 6));
    const shortReach = await decoded(await process(path, "image/blur,r_2,s_10"));
    const longReach = await decoded(await process(path, "image/blur,r_10,s_10"));
    expect(across(longReach)).toBeLessThan(across(shortReach));
    expect(red(shortReach, EDGE_X - 6)).toBe(40);
    expect(red(longReach, EDGE_X - 6)).toBeGreaterThan(40);
    // Symmetric around the edge, and far from it nothing moves.
    expect(red(small, EDGE_X - 1) - 40).toBe(210 - red(small, EDGE_X));
    expect([red(small, 3), red(small, 60)]).toEqual([40, 210]);
  });

  it("accepts both ends of r and s in [1, 50], even with a kernel wider than the image", async () => {
    const path = await upload("blurends.png", await encode.png(edge()));
    const least = await decoded(await process(path, "image/blur,r_1,s_1"));
    expect(red(least, EDGE_X) - red(least, EDGE_X - 1)).toBeLessThan(170);
    const most = await decoded(await process(path, "image/blur,s_50,r_50"));
    expect([most.width, most.height]).toEqual([64, 32]);
    expect(red(most, 0)).toBeGreaterThan(40);
    expect(red(most, 63)).toBeLessThan(210);
    expect(red(most, 63)).toBeGreaterThan(red(most, 0));
  });

  it("rejects values outside [1, 50], non-integers and unknown parameters", async () => {
    const path = await upload("blurbad.png", await encode.png(edge()));
    await expectRejected(
      path,
      [
        "blur,r_0,s_1",
        "blur,r_51,s_1",
        "blur,r_1,s_0",
        "blur,r_1,s_51",
        "blur,r_abc,s_1",
        "blur,r_3,s_1.5",
        "blur,r_3,s_2,x_1",
        "blur,3",
      ],
      "InvalidArgument",
    );
  });

  it("answers MissingArgument when r or s is missing", async () => {
    const path = await upload("blurmissing.png", await encode.png(edge()));
    for (const [value, missing] of [
      ["blur,r_3", "s"],
      ["blur,s_3", "r"],
      ["blur", "r"],
    ]) {
      const error = await ossError(await process(path, `image/${value}`));
      expect(error, value).toMatchObject({ status: 400, code: "MissingArgument" });
      expect(error.message, value).toContain(`parameter: ${missing}`);
    }
  });

  it("names face blur (g, p) as unsupported", async () => {
    const path = await upload("blurface.png", await encode.png(edge()));
    for (const value of ["blur,r_3,s_2,g_face", "blur,g_faces", "blur,r_3,s_2,p_50"]) {
      const error = await ossError(await process(path, `image/${value}`));
      expect(error, value).toMatchObject({ status: 400, code: "InvalidArgument" });
      expect(error.message, value).toMatch(/face blur/i);
    }
  });
});

describe("alpha", () => {
  it("is left exactly as it was by every effect", async () => {
    const source = transparentLeft();
    const path = await upload("alpha.png", await encode.png(source));
    for (const value of ["bright,40", "contrast,60", "sharpen,200", "blur,r_5,s_3"]) {
      const out = await decoded(await process(path, `image/${value}`));
      expect([out.format, out.width, out.height], value).toEqual(["png", 64, 32]);
      expect(alphaOf(out), value).toEqual(alphaOf(source));
    }
  });

  it("keeps the colour hidden under transparent pixels out of visible ones", async () => {
    const path = await upload("bleed.png", await encode.png(transparentLeft()));
    for (const value of ["blur,r_5,s_3", "sharpen,200"]) {
      const out = await decoded(await process(path, `image/${value}`));
      expectColour(out, EDGE_X, 16, [220, 30, 30, 255], 1);
    }
  });
});

describe("chains", () => {
  it("resizes, then blurs the resized image, then converts", async () => {
    const path = await upload("chain.jpg", await encode.jpg(edge(), 95));
    const out = await decoded(await process(path, "image/resize,w_50/blur,r_3,s_2/format,png"));
    expect([out.format, out.width, out.height]).toEqual(["png", 50, 25]);
    expect(red(out, 25) - red(out, 24)).toBeLessThan(100);
  });

  it("applies effects in the order written", async () => {
    const source = edge(100, 150);
    const path = await upload("order.png", await encode.png(source));
    // 100 + 51 - 51 and 150 + 51 - 51: brightening and darkening by the same amount cancel in range.
    const undone = await decoded(await process(path, "image/bright,20/bright,-20"));
    expect(Array.from(undone.data)).toEqual(Array.from(source.data));
    // Order matters once clamping is involved: white first, then darker; or black first, then lighter.
    const whiteThenDark = await decoded(await process(path, "image/bright,100/bright,-20"));
    expect(red(whiteThenDark, 5)).toBe(204);
    const darkThenWhite = await decoded(await process(path, "image/bright,-20/bright,100"));
    expect(red(darkThenWhite, 5)).toBe(255);
  });

  it("composes all four with rotate and keeps the rotated size", async () => {
    const path = await upload("all.png", await encode.png(softEdge()));
    const out = await decoded(
      await process(path, "image/rotate,90/bright,10/contrast,20/sharpen,100/blur,r_2,s_1"),
    );
    expect([out.width, out.height]).toEqual([32, 64]);
  });
});
