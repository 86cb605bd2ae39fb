import { describe, expect, it } from "vitest";
import type { Raster } from "../src/image/raster";
import {
  BLUE,
  decoded,
  encode,
  expectColour,
  GREEN,
  makeRaster,
  ossError,
  pixel,
  process,
  quadrants,
  RED,
  upload,
  YELLOW,
} from "./helpers";

const WHITE_PIXEL = [255, 255, 255, 255] as const;

/** Colour names at given points: R, G, B, Y, or ? for anything else. */
function colours(image: Raster, points: [number, number][]): string {
  return points
    .map(([x, y]) => {
      const [r, g, b] = pixel(image, x, y);
      if (r > 200 && g > 200 && b < 80) return "Y";
      if (r > 200 && g < 80) return "R";
      if (g > 200 && r < 80) return "G";
      if (b > 200 && r < 80) return "B";
      return "?";
    })
    .join("");
}

const alpha = (image: Raster, x: number, y: number) => pixel(image, x, y)[3];

/** Top and bottom of a vertical strip, left and right of a horizontal one. */
const ends = (image: Raster, axis: "x" | "y") =>
  axis === "x"
    ? colours(image, [
        [image.width >> 1, 10],
        [image.width >> 1, image.height - 10],
      ])
    : colours(image, [
        [10, image.height >> 1],
        [image.width - 10, image.height >> 1],
      ]);

async function expectError(path: string, values: string[], code: string) {
  for (const value of values) {
    expect(await ossError(await process(path, value)), value).toMatchObject({ status: 400, code });
  }
}

describe("indexcrop", () => {
  // 400x300 quadrants: red | green over blue | yellow, split at x = 200 and y = 150.
  it.each([
    ["x_100,i_0", [100, 300], "RB"],
    ["x_100", [100, 300], "RB"],
    ["x_100,i_3", [100, 300], "GY"],
    ["x_150,i_2", [100, 300], "GY"],
    ["x_1000", [400, 300], "?"],
  ])("cuts vertical strips: %s", async (value, size, expected) => {
    const path = await upload("strips.png", await encode.png(quadrants(400, 300)));
    const out = await decoded(await process(path, `image/indexcrop,${value}`));
    expect([out.width, out.height]).toEqual(size);
    if (expected !== "?") expect(ends(out, "x")).toBe(expected);
  });

  it.each([
    ["y_100,i_0", [400, 100], "RG"],
    ["y_100,i_2", [400, 100], "BY"],
    ["y_120,i_2", [400, 60], "BY"],
    ["y_299,i_1", [400, 1], "BY"],
  ])("cuts horizontal strips: %s", async (value, size, expected) => {
    const path = await upload("rows.png", await encode.png(quadrants(400, 300)));
    const out = await decoded(await process(path, `image/indexcrop,${value}`));
    expect([out.width, out.height]).toEqual(size);
    expect(ends(out, "y")).toBe(expected);
  });

  it("lets y win over x", async () => {
    const path = await upload("both.png", await encode.png(quadrants(400, 300)));
    const out = await decoded(await process(path, "image/indexcrop,x_100,y_100,i_2"));
    expect([out.width, out.height]).toEqual([400, 100]);
    expect(ends(out, "y")).toBe("BY");
  });

  it("returns the image unchanged for an index past the last strip", async () => {
    const path = await upload("past.png", await encode.png(quadrants(400, 300)));
    for (const value of ["x_100,i_4", "y_100,i_3", "y_120,i_3", "x_1000,i_1", "x_1,i_1000000"]) {
      const out = await decoded(await process(path, `image/indexcrop,${value}`));
      expect([out.width, out.height], value).toEqual([400, 300]);
      expect(colours(out, [[100, 75]]), value).toBe("R");
    }
  });

  it("rejects zero, negative and non-numeric values, and asks for x or y", async () => {
    const path = await upload("bad.png", await encode.png(quadrants(40, 30)));
    await expectError(
      path,
      ["x_0", "y_0", "x_-1", "y_-5", "x_abc", "x_1.5", "x_10,i_-1", "x_10,i_a", "x_10,z_1", "x_10,5"].map(
        (value) => `image/indexcrop,${value}`,
      ),
      "InvalidArgument",
    );
    await expectError(path, ["image/indexcrop", "image/indexcrop,i_1"], "MissingArgument");
  });
});

describe("circle", () => {
  it("follows a resize: the square ends the run before the resize's last rows", async () => {
    // The resize is done while decoding; circle's square needs only its middle rows, so the run
    // stops there and the resize's remaining rows are never wanted (they are no damage).
    for (const [name, bytes] of [
      ["circle-after-resize.jpg", await encode.jpg(quadrants(800, 600))],
      ["circle-after-resize.png", await encode.png(quadrants(800, 600))],
    ] as const) {
      const path = await upload(name, bytes);
      const out = await decoded(await process(path, "image/resize,w_300/circle,r_100/format,png"));
      expect([out.width, out.height, out.format], name).toEqual([201, 201, "png"]);
      expect(alpha(out, 0, 0), name).toBe(0);
      expect(alpha(out, 100, 100), name).toBe(255);
    }
  });

  it("keeps the 2r+1 square around the centre, transparent outside the circle for PNG", async () => {
    const path = await upload("circle.png", await encode.png(quadrants(400, 300)));
    const out = await decoded(await process(path, "image/circle,r_50"));
    expect([out.width, out.height, out.format]).toEqual([101, 101, "png"]);
    for (const [x, y] of [
      [0, 0],
      [100, 0],
      [0, 100],
      [100, 100],
      [10, 10],
    ]) {
      expect(alpha(out, x, y), `(${x}, ${y})`).toBe(0);
    }
    // The square spans x 149..249 and y 99..199 of the source, so its centre pixel is still red.
    expect(
      colours(out, [
        [25, 25],
        [75, 25],
        [25, 75],
        [75, 75],
        [50, 50],
      ]),
    ).toBe("RGBYR");
    for (const [x, y] of [
      [50, 50],
      [50, 0],
      [0, 50],
      [100, 50],
      [50, 100],
    ]) {
      expect(alpha(out, x, y), `(${x}, ${y})`).toBe(255);
    }
    // Anti-aliased: along the diagonal, alpha climbs through partial values to opaque.
    const diagonal = Array.from({ length: 51 }, (_, i) => alpha(out, i, i));
    expect(diagonal.some((a) => a > 0 && a < 255)).toBe(true);
    expect(diagonal).toEqual([...diagonal].sort((a, b) => a - b));
  });

  it("fills outside the circle with white for JPEG output", async () => {
    const path = await upload("circle.jpg", await encode.jpg(quadrants(400, 300)));
    const out = await decoded(await process(path, "image/circle,r_50"));
    expect([out.width, out.height, out.format]).toEqual([101, 101, "jpg"]);
    expectColour(out, 0, 0, WHITE_PIXEL, 8);
    expectColour(out, 100, 100, WHITE_PIXEL, 8);
    expectColour(out, 25, 25, RED);
    expectColour(out, 75, 75, YELLOW);

    const png = await upload("circle-to-jpg.png", await encode.png(quadrants(400, 300)));
    const flat = await decoded(await process(png, "image/circle,r_50/format,jpg"));
    expect(flat.format).toBe("jpg");
    expectColour(flat, 0, 0, WHITE_PIXEL, 8);
  });

  it("keeps transparency for WebP output", async () => {
    const path = await upload("circle-webp.png", await encode.png(quadrants(400, 300)));
    const out = await decoded(await process(path, "image/circle,r_40/format,webp"));
    expect([out.width, out.height, out.format]).toEqual([81, 81, "webp"]);
    expect(alpha(out, 0, 0)).toBe(0);
    expect(alpha(out, 40, 40)).toBe(255);
  });

  it.each([
    [80, 60, "r_100", 59],
    [80, 60, "r_29", 59],
    [80, 60, "r_30", 59],
    [61, 80, "r_30", 61],
    [400, 300, "r_4096", 299],
    [400, 300, "r_1", 3],
  ])("caps r on %ix%i: %s gives %i pixels", async (width, height, value, side) => {
    const path = await upload("cap.png", await encode.png(quadrants(width, height)));
    const out = await decoded(await process(path, `image/circle,${value}`));
    expect([out.width, out.height]).toEqual([side, side]);
    const centre = side >> 1;
    expect(alpha(out, centre, centre)).toBe(255);
  });

  it("validates r", async () => {
    const path = await upload("circle-bad.png", await encode.png(quadrants(40, 30)));
    await expectError(
      path,
      ["r_0", "r_4097", "r_-1", "r_abc", "r_1.5", "x_10", "r_10,x_1", "10"].map(
        (value) => `image/circle,${value}`,
      ),
      "InvalidArgument",
    );
    await expectError(path, ["image/circle"], "MissingArgument");
  });
});

describe("rounded-corners", () => {
  it("keeps the size and cuts transparent, anti-aliased corners for PNG", async () => {
    const path = await upload("round.png", await encode.png(quadrants(400, 300)));
    const out = await decoded(await process(path, "image/rounded-corners,r_50"));
    expect([out.width, out.height, out.format]).toEqual([400, 300, "png"]);
    for (const [x, y] of [
      [0, 0],
      [399, 0],
      [0, 299],
      [399, 299],
      [10, 10],
      [389, 289],
    ]) {
      expect(alpha(out, x, y), `(${x}, ${y})`).toBe(0);
    }
    // The centre, the edge midpoints and the points just inside the arcs are untouched.
    const untouched: [number, number][] = [
      [100, 75],
      [200, 0],
      [0, 150],
      [399, 150],
      [200, 299],
      [50, 0],
      [0, 50],
      [20, 20],
      [379, 279],
    ];
    for (const [x, y] of untouched) expect(alpha(out, x, y), `(${x}, ${y})`).toBe(255);
    expect(colours(out, untouched)).toBe("RGBYYRRRY");
    const diagonal = Array.from({ length: 30 }, (_, i) => alpha(out, i, i));
    expect(diagonal.some((a) => a > 0 && a < 255)).toBe(true);
    expect(diagonal).toEqual([...diagonal].sort((a, b) => a - b));
  });

  it("fills the corners with white for JPEG output", async () => {
    const path = await upload("round.jpg", await encode.jpg(quadrants(400, 300)));
    const out = await decoded(await process(path, "image/rounded-corners,r_50"));
    expect([out.width, out.height, out.format]).toEqual([400, 300, "jpg"]);
    expectColour(out, 0, 0, WHITE_PIXEL, 8);
    expectColour(out, 399, 299, WHITE_PIXEL, 8);
    expectColour(out, 300, 2, GREEN);
    expectColour(out, 100, 200, BLUE);
  });

  it("caps r at half the shortest edge", async () => {
    const path = await upload("round-cap.png", await encode.png(quadrants(400, 300)));
    const half = await decoded(await process(path, "image/rounded-corners,r_150"));
    for (const value of ["r_151", "r_1000", "r_4096"]) {
      const out = await decoded(await process(path, `image/rounded-corners,${value}`));
      expect([out.width, out.height], value).toEqual([400, 300]);
      // Compared in one go: element-wise toEqual on 480,000 bytes takes seconds.
      expect(
        out.data.every((byte, i) => byte === half.data[i]),
        value,
      ).toBe(true);
    }
    // A 300-high image with r 150 is a stadium: its straight edges end where the arcs begin.
    expect(alpha(half, 0, 150)).toBe(255);
    expect(alpha(half, 5, 60)).toBe(0);
    expect(alpha(half, 200, 0)).toBe(255);
    expect(alpha(half, 60, 0)).toBe(0);
  });

  it("accepts r_1 and validates r", async () => {
    const path = await upload("round-bad.png", await encode.png(quadrants(40, 30)));
    const one = await decoded(await process(path, "image/rounded-corners,r_1"));
    expect([one.width, one.height]).toEqual([40, 30]);
    expect(alpha(one, 0, 0)).toBeLessThan(255);
    expect(alpha(one, 1, 1)).toBe(255);
    await expectError(
      path,
      ["r_0", "r_4097", "r_5000", "r_-3", "r_x", "w_10"].map((value) => `image/rounded-corners,${value}`),
      "InvalidArgument",
    );
    await expectError(path, ["image/rounded-corners"], "MissingArgument");
  });
});

describe("average-hue", () => {
  it("answers the mean colour as JSON", async () => {
    const solid = await upload("solid.png", await encode.png(makeRaster(30, 20, () => [187, 205, 127, 255])));
    const res = await process(solid, "image/average-hue");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("application/json");
    expect(await res.text()).toBe('{"RGB":"0xbbcd7f"}');

    // Quarters red, green, blue, yellow: (255+255)/4, (255+255)/4, 255/4, rounded.
    const mixed = await upload("mean.png", await encode.png(quadrants(400, 300)));
    expect(await (await process(mixed, "image/average-hue")).json()).toEqual({ RGB: "0x808040" });
  });

  it("reads lossy sources close to their colour", async () => {
    const jpeg = await upload("solid.jpg", await encode.jpg(makeRaster(64, 48, () => [16, 32, 240, 255])));
    const { RGB } = await (await process(jpeg, "image/average-hue")).json<{ RGB: string }>();
    expect(RGB).toMatch(/^0x[0-9a-f]{6}$/);
    const channels = [2, 4, 6].map((i) => Number.parseInt(RGB.slice(i, i + 2), 16));
    const drift = channels.map((value, i) => Math.abs(value - [16, 32, 240][i]));
    expect(Math.max(...drift), RGB).toBeLessThanOrEqual(8);
  });

  it("weighs pixels by alpha", async () => {
    // Left half transparent black, right half opaque red: only the visible red counts.
    const image = makeRaster(40, 20, (x) => (x < 20 ? [0, 0, 0, 0] : RED));
    const path = await upload("half.png", await encode.png(image));
    expect(await (await process(path, "image/average-hue")).json()).toEqual({ RGB: "0xff0000" });
  });

  it("must stand alone", async () => {
    const path = await upload("hue-alone.png", await encode.png(quadrants(30, 20)));
    await expectError(
      path,
      [
        "image/resize,w_10/average-hue",
        "image/average-hue/format,png",
        "image/average-hue,x_1",
        "image/info/average-hue",
      ],
      "InvalidArgument",
    );
  });

  it("is planned against the memory budget before decoding", async () => {
    // A real PNG whose header claims an Adam7-interlaced 12000x9000 image: its decoder must hold the
    // whole frame, far over the budget, so it is refused unread. (Non-interlaced PNGs and JPEGs
    // stream, or are decoded reduced for average-hue: test/engine.)
    const png = await encode.png(quadrants(16, 16));
    const header = new DataView(png.buffer, png.byteOffset);
    header.setUint32(16, 12000);
    header.setUint32(20, 9000);
    header.setUint8(28, 1); // IHDR interlace method: Adam7
    const path = await upload("huge-hue.png", png);
    expect(await ossError(await process(path, "image/average-hue"))).toMatchObject({
      status: 400,
      code: "ImageTooLarge",
    });
  });
});

describe("chains", () => {
  it("cuts a circle from a resized, clipped crop", async () => {
    const path = await upload("chain.jpg", await encode.jpg(quadrants(400, 300)));
    // 400x300 -> 50x38; the crop clips to 50x38; r 20 is capped at (38 - 1) / 2 = 18: 37x37.
    const out = await decoded(
      await process(path, "image/resize,w_50/crop,w_100,h_100/circle,r_20/format,png"),
    );
    expect([out.width, out.height, out.format]).toEqual([37, 37, "png"]);
    expect(alpha(out, 0, 0)).toBe(0);
    expect(alpha(out, 18, 18)).toBe(255);
  });

  it("rounds the corners of a filled square into a circle", async () => {
    const path = await upload("chain-fill.jpg", await encode.jpg(quadrants(400, 300)));
    const out = await decoded(
      await process(path, "image/resize,m_fill,w_200,h_200/rounded-corners,r_100/format,png"),
    );
    expect([out.width, out.height, out.format]).toEqual([200, 200, "png"]);
    expect(alpha(out, 0, 0)).toBe(0);
    expect(alpha(out, 20, 20)).toBe(0);
    for (const [x, y] of [
      [100, 0],
      [0, 100],
      [199, 100],
      [100, 199],
      [100, 100],
    ]) {
      expect(alpha(out, x, y), `(${x}, ${y})`).toBe(255);
    }
    expectColour(out, 50, 50, RED);
  });

  it("sharpens after rounding the corners without bringing the corners back", async () => {
    const path = await upload("chain-sharpen.jpg", await encode.jpg(quadrants(400, 300)));
    const out = await decoded(
      await process(path, "image/resize,m_fill,w_200,h_200/rounded-corners,r_100/format,png/sharpen,100"),
    );
    expect([out.width, out.height, out.format]).toEqual([200, 200, "png"]);
    expect(alpha(out, 0, 0)).toBe(0);
    expect(alpha(out, 199, 199)).toBe(0);
    expect(alpha(out, 100, 100)).toBe(255);
    expectColour(out, 60, 60, RED);
    expectColour(out, 140, 140, YELLOW);
  });

  it("takes an indexed strip, then rounds it", async () => {
    const path = await upload("chain-strip.png", await encode.png(quadrants(400, 300)));
    const out = await decoded(await process(path, "image/indexcrop,x_100,i_3/rounded-corners,r_20"));
    expect([out.width, out.height]).toEqual([100, 300]);
    expect(alpha(out, 0, 0)).toBe(0);
    expect(ends(out, "x")).toBe("GY");
  });
});
