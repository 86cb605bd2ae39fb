import { describe, expect, it } from "vitest";
import {
  BLUE,
  type DecodedOutput,
  decoded,
  encode,
  expectColour,
  GREEN,
  ossError,
  process,
  quadrants,
  RED,
  upload,
  withOrientation,
  YELLOW,
} from "./helpers";

/** The colour at the centre of each quadrant of an output, as a compact string. */
function layout(image: DecodedOutput): string {
  const name = (x: number, y: number) => {
    const i = (Math.floor(y) * image.width + Math.floor(x)) * 4;
    const [r, g, b] = image.data.subarray(i, i + 3);
    if (r > 200 && g > 200 && b < 80) return "Y";
    if (r > 200 && g < 80) return "R";
    if (g > 200 && r < 80) return "G";
    if (b > 200) return "B";
    return "?";
  };
  const { width: w, height: h } = image;
  return `${name(w / 4, h / 4)}${name((3 * w) / 4, h / 4)}/${name(w / 4, (3 * h) / 4)}${name((3 * w) / 4, (3 * h) / 4)}`;
}

describe("crop", () => {
  // 400x300 quadrants; a 100x100 crop at each anchor lands in one colour (or on a boundary).
  const ANCHORS: [string, [number, number], string][] = [
    ["nw", [0, 0], "RR/RR"],
    ["north", [150, 0], "RG/RG"],
    ["ne", [300, 0], "GG/GG"],
    ["west", [0, 100], "RR/BB"],
    ["center", [150, 100], "RG/BY"],
    ["east", [300, 100], "GG/YY"],
    ["sw", [0, 200], "BB/BB"],
    ["south", [150, 200], "BY/BY"],
    ["se", [300, 200], "YY/YY"],
  ];

  it.each(ANCHORS)("anchors g_%s at the reference origin", async (gravity, _origin, expected) => {
    const path = await upload("crop.png", await encode.png(quadrants(400, 300)));
    const out = await decoded(await process(path, `image/crop,w_100,h_100,g_${gravity}`));
    expect([out.width, out.height]).toEqual([100, 100]);
    expect(layout(out)).toBe(expected);
  });

  it("offsets x/y inward from the anchor", async () => {
    const path = await upload("offset.png", await encode.png(quadrants(400, 300)));
    const nw = await decoded(await process(path, "image/crop,x_250,y_200,w_100,h_100"));
    expect(layout(nw)).toBe("YY/YY");
    const se = await decoded(await process(path, "image/crop,x_250,y_200,w_100,h_100,g_se"));
    expect(layout(se)).toBe("RR/RR");
  });

  it("defaults w/h to the rest of the image and clips what runs past the edge", async () => {
    const path = await upload("clip.png", await encode.png(quadrants(400, 300)));
    const rest = await decoded(await process(path, "image/crop,x_300,y_250"));
    expect([rest.width, rest.height]).toEqual([100, 50]);
    const clipped = await decoded(await process(path, "image/crop,x_350,y_0,w_500,h_5000"));
    expect([clipped.width, clipped.height]).toEqual([50, 300]);
    const wide = await decoded(await process(path, "image/crop,w_1000,h_100,g_center"));
    expect([wide.width, wide.height]).toEqual([400, 100]);
  });

  it("answers 400 BadRequest when the start point is outside the image", async () => {
    const path = await upload("out.png", await encode.png(quadrants(400, 300)));
    for (const value of ["x_400", "y_300", "x_500,y_10"]) {
      const res = await process(path, `image/crop,${value},w_10,h_10`);
      expect(await ossError(res)).toMatchObject({
        status: 400,
        code: "BadRequest",
        message: "Advance cut's position is out of image.",
      });
    }
  });

  it("rejects bad gravity and bad numbers", async () => {
    const path = await upload("bad.png", await encode.png(quadrants(40, 30)));
    for (const value of ["g_middle", "w_-1", "x_1.5", "z_1"]) {
      const res = await process(path, `image/crop,${value}`);
      expect(await ossError(res), value).toMatchObject({ status: 400, code: "InvalidArgument" });
    }
  });
});

describe("rotate", () => {
  it.each([
    [90, [300, 400], "BR/YG"],
    [180, [400, 300], "YB/GR"],
    [270, [300, 400], "GY/RB"],
    [360, [400, 300], "RG/BY"],
    [0, [400, 300], "RG/BY"],
  ])("turns %i degrees clockwise exactly", async (angle, size, expected) => {
    const path = await upload("rot.png", await encode.png(quadrants(400, 300)));
    const out = await decoded(await process(path, `image/rotate,${angle}`));
    expect([out.width, out.height]).toEqual(size);
    expect(layout(out)).toBe(expected);
  });

  it("grows the canvas for other angles: transparent corners for PNG, white for JPEG", async () => {
    const png = await upload("rot45.png", await encode.png(quadrants(200, 100)));
    const out = await decoded(await process(png, "image/rotate,45"));
    // Bounding box of a 200x100 turned 45 degrees: (200 + 100) / sqrt(2) on each side.
    expect([out.width, out.height]).toEqual([212, 212]);
    expect(out.data[3]).toBe(0);
    expectColour(out, 106, 106, [0, 0, 0, 255], 255);
    expect(out.data[(106 * out.width + 106) * 4 + 3]).toBe(255);

    const jpg = await upload("rot45.jpg", await encode.jpg(quadrants(200, 100)));
    const white = await decoded(await process(jpg, "image/rotate,45"));
    expectColour(white, 1, 1, [255, 255, 255, 255], 8);
  });

  it("turns clockwise: after 30 degrees the red top-left quadrant moves right along the top", async () => {
    const path = await upload("rot30.png", await encode.png(quadrants(400, 300)));
    const out = await decoded(await process(path, "image/rotate,30"));
    expect([out.width, out.height]).toEqual([496, 460]);
    expectColour(out, 230, 90, RED);
  });

  it("validates the angle", async () => {
    const path = await upload("r.png", await encode.png(quadrants(40, 30)));
    for (const value of ["361", "-90", "abc", "d_90"]) {
      const res = await process(path, `image/rotate,${value}`);
      expect(await ossError(res), value).toMatchObject({ status: 400, code: "InvalidArgument" });
    }
  });
});

describe("auto-orient", () => {
  // Stored pixels are the quadrants; each EXIF orientation says how to show them upright.
  const ORIENTATIONS: [number, string][] = [
    [1, "RG/BY"],
    [2, "GR/YB"],
    [3, "YB/GR"],
    [4, "BY/RG"],
    [5, "RB/GY"],
    [6, "BR/YG"],
    [7, "YG/BR"],
    [8, "GY/RB"],
  ];

  it.each(ORIENTATIONS)("applies EXIF orientation %i by default", async (orientation, expected) => {
    const jpeg = withOrientation(await encode.jpg(quadrants(80, 40)), orientation);
    const path = await upload(`o${orientation}.jpg`, jpeg);
    const out = await decoded(await process(path, "image/format,png"));
    expect(layout(out)).toBe(expected);
    expect([out.width, out.height]).toEqual(orientation >= 5 ? [40, 80] : [80, 40]);
    const explicit = await decoded(await process(path, "image/auto-orient,1/format,png"));
    expect(layout(explicit)).toBe(expected);
  });

  it("keeps the stored pixels with auto-orient,0", async () => {
    const path = await upload("o6.jpg", withOrientation(await encode.jpg(quadrants(80, 40)), 6));
    const out = await decoded(await process(path, "image/auto-orient,0/resize,w_40"));
    expect([out.width, out.height]).toEqual([40, 20]);
    expect(layout(out)).toBe("RG/BY");
  });

  it("orients before resizing wherever auto-orient stands, and never leaves an Orientation tag", async () => {
    const path = await upload("o6r.jpg", withOrientation(await encode.jpg(quadrants(80, 40)), 6));
    const out = await decoded(await process(path, "image/resize,w_20/auto-orient,1"));
    expect([out.width, out.height]).toEqual([20, 40]);
    const info = await (await process(`${path}`, "image/info")).json<Record<string, { value: string }>>();
    expect(info.Orientation.value).toBe("6");
    const text = new TextDecoder("latin1").decode(out.bytes);
    expect(text.includes("Exif\0\0")).toBe(false);
  });

  it("validates the value", async () => {
    const path = await upload("ao.jpg", await encode.jpg(quadrants(40, 30)));
    for (const value of ["2", "abc", "10"]) {
      const res = await process(path, `image/auto-orient,${value}`);
      expect(await ossError(res), value).toMatchObject({ status: 400, code: "InvalidArgument" });
    }
  });
});

describe("chains", () => {
  it("sizes a rotate after a resize from the resized image", async () => {
    const path = await upload("chain1.jpg", await encode.jpg(quadrants(400, 300)));
    const out = await decoded(await process(path, "image/resize,w_200/rotate,90"));
    expect([out.width, out.height]).toEqual([150, 200]);
    expect(layout(out)).toBe("BR/YG");
  });

  it("clips a crop larger than the resized image", async () => {
    const path = await upload("chain2.jpg", await encode.jpg(quadrants(400, 300)));
    const out = await decoded(await process(path, "image/resize,w_50/crop,w_100,h_100/format,png"));
    expect([out.width, out.height, out.format]).toEqual([50, 38, "png"]);
  });

  it("composes crop, rotate, resize and format in order", async () => {
    const path = await upload("chain3.jpg", await encode.jpg(quadrants(400, 300)));
    const out = await decoded(
      await process(path, "image/crop,w_200,h_150,g_se/rotate,90/resize,h_100/format,webp/quality,Q_90"),
    );
    expect([out.width, out.height, out.format]).toEqual([75, 100, "webp"]);
    expectColour(out, 37, 50, YELLOW);
  });

  it("crops the oriented image, not the stored one", async () => {
    const path = await upload("chain4.jpg", withOrientation(await encode.jpg(quadrants(80, 40)), 6));
    const out = await decoded(await process(path, "image/crop,w_20,h_20,g_nw/format,png"));
    expectColour(out, 10, 10, BLUE);
    const stored = await decoded(await process(path, "image/auto-orient,0/crop,w_20,h_20,g_ne/format,png"));
    expectColour(stored, 10, 10, GREEN);
  });
});
