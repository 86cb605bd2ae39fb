import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import {
  BLUE,
  base64,
  changedBox,
  decoded,
  encode,
  expectColour,
  fontFile,
  GREEN,
  makeRaster,
  ossError,
  process,
  put,
  RED,
  uniqueKey,
  upload,
} from "./helpers";
import { buildFont, square } from "./synthetic-font";

const solid = (width: number, height: number, colour: readonly number[]) =>
  makeRaster(width, height, () => colour as [number, number, number, number]);

/** A 200x100 blue base image and a 20x10 red mark in the same bucket. */
async function setup(markWidth = 20, markHeight = 10) {
  const path = await upload("base.png", await encode.png(solid(200, 100, BLUE)));
  const markKey = uniqueKey("mark.png");
  await put(markKey, await encode.png(solid(markWidth, markHeight, RED)));
  return { path, markKey, mark: base64(markKey) };
}

describe("image watermark", () => {
  it("places the mark at the bottom right, 10 px from the edges, by default", async () => {
    const { path, mark } = await setup();
    const out = await decoded(await process(path, `image/watermark,image_${mark}`));
    expect([out.width, out.height]).toEqual([200, 100]);
    expectColour(out, 175, 85, RED, 0);
    expectColour(out, 169, 85, BLUE, 0);
    expectColour(out, 195, 95, BLUE, 0);
  });

  it("honours gravity, margins and voffset", async () => {
    const { path, mark } = await setup();
    const nw = await decoded(await process(path, `image/watermark,image_${mark},g_nw,x_0,y_0`));
    expectColour(nw, 2, 2, RED, 0);
    const north = await decoded(await process(path, `image/watermark,image_${mark},g_north,y_30`));
    expectColour(north, 100, 35, RED, 0);
    expectColour(north, 100, 25, BLUE, 0);
    const centre = await decoded(await process(path, `image/watermark,image_${mark},g_center,voffset_20`));
    expectColour(centre, 100, 70, RED, 0);
    expectColour(centre, 100, 50, BLUE, 0);
    const west = await decoded(await process(path, `image/watermark,image_${mark},g_west,x_5,voffset_-20`));
    expectColour(west, 10, 30, RED, 0);
  });

  it("applies opacity t", async () => {
    const { path, mark } = await setup();
    const out = await decoded(await process(path, `image/watermark,image_${mark},t_50`));
    expectColour(out, 175, 85, [128, 0, 128, 255], 3);
    const invisible = await decoded(await process(path, `image/watermark,image_${mark},t_0`));
    expectColour(invisible, 175, 85, BLUE, 0);
  });

  it("tiles with fill_1 and padx/pady", async () => {
    const { path, mark } = await setup();
    const out = await decoded(await process(path, `image/watermark,image_${mark},fill_1,padx_20,pady_10`));
    expectColour(out, 5, 5, RED, 0);
    expectColour(out, 25, 5, BLUE, 0);
    expectColour(out, 45, 5, RED, 0);
    expectColour(out, 5, 15, BLUE, 0);
    expectColour(out, 5, 25, RED, 0);
    expectColour(out, 165, 85, RED, 0);
    expectColour(out, 185, 85, BLUE, 0);
  });

  it("pre-processes the mark with resize, crop, indexcrop and rotate", async () => {
    const { path, markKey } = await setup(40, 20);
    const nested = (value: string) => base64(`${markKey}?x-oss-process=${value}`);
    const resized = await decoded(
      await process(path, `image/watermark,image_${nested("image/resize,w_10")},g_nw,x_0,y_0`),
    );
    expectColour(resized, 8, 3, RED, 0);
    expectColour(resized, 12, 3, BLUE, 0);
    const rotated = await decoded(
      await process(path, `image/watermark,image_${nested("image/crop,w_10,h_20/rotate,90")},g_nw,x_0,y_0`),
    );
    expectColour(rotated, 15, 5, RED, 0);
    expectColour(rotated, 5, 15, BLUE, 0);
    const strip = await decoded(
      await process(path, `image/watermark,image_${nested("image/indexcrop,x_5,i_0")},g_nw,x_0,y_0`),
    );
    expectColour(strip, 3, 15, RED, 0);
    expectColour(strip, 7, 15, BLUE, 0);
  });

  it("sizes the mark with P_ as a percentage of the base image", async () => {
    const { path, markKey } = await setup();
    const mark = base64(`${markKey}?x-oss-process=image/resize,P_50`);
    const out = await decoded(await process(path, `image/watermark,image_${mark}`));
    // 100x50 (half of 200x100), 10 px from the bottom right: x 90..189, y 40..89.
    expectColour(out, 95, 45, RED, 0);
    expectColour(out, 85, 45, BLUE, 0);
    expectColour(out, 95, 35, BLUE, 0);
  });

  it("accepts standard and URL-safe Base64, padded or not, even where standard Base64 holds a /", async () => {
    const { path } = await setup();
    // A 39-character prefix keeps the Base64 aligned: "/标志>?.png" then encodes as "L+agh+W/lz4/LnBuZw==".
    const key = `wm-${crypto.randomUUID()}/标志>?.png`;
    expect(base64(key, false)).toMatch(/\//);
    await put(key, await encode.png(solid(20, 10, GREEN)));
    for (const encoded of [
      base64(key, false),
      base64(key),
      `${base64(key)}==`.slice(0, base64(key, false).length),
    ]) {
      const out = await decoded(await process(path, `image/watermark,image_${encodeURIComponent(encoded)}`));
      expectColour(out, 175, 85, GREEN, 0);
    }
  });

  it("refuses bad Base64, nested watermarks and other pre-processing", async () => {
    const { path, markKey } = await setup();
    expect(await ossError(await process(path, "image/watermark,image_***"))).toMatchObject({
      status: 400,
      code: "BadRequest",
      message: "Input is not base64 decoding.",
    });
    const nestedMark = base64(`${markKey}?x-oss-process=image/watermark,text_${base64("x")}`);
    expect(await ossError(await process(path, `image/watermark,image_${nestedMark}`))).toMatchObject({
      status: 400,
      code: "InvalidArgument",
    });
    const circled = base64(`${markKey}?x-oss-process=image/circle,r_5`);
    expect(await ossError(await process(path, `image/watermark,image_${circled}`))).toMatchObject({
      code: "InvalidArgument",
    });
    const percent = base64(`${markKey}?x-oss-process=image/resize,P_101`);
    expect(await ossError(await process(path, `image/watermark,image_${percent}`))).toMatchObject({
      code: "InvalidArgument",
    });
  });

  it("answers a missing watermark object with WatermarkError, and more than three watermarks with InvalidArgument", async () => {
    const { path, mark } = await setup();
    const missing = base64(uniqueKey("nope.png"));
    expect(await ossError(await process(path, `image/watermark,image_${missing}`))).toMatchObject({
      status: 400,
      code: "WatermarkError",
    });
    const one = `watermark,image_${mark}`;
    expect(await ossError(await process(path, `image/${one}/${one}/${one}/${one}`))).toMatchObject({
      code: "InvalidArgument",
    });
    const three = await decoded(await process(path, `image/${one},g_nw/${one},g_ne/${one}`));
    expectColour(three, 15, 15, RED, 0);
  });

  it("validates the common parameters", async () => {
    const { path, mark } = await setup();
    for (const bad of ["t_101", "g_middle", "x_4097", "voffset_1001", "fill_2", "padx_5000", "zz_1"]) {
      expect(await ossError(await process(path, `image/watermark,image_${mark},${bad}`)), bad).toMatchObject({
        status: 400,
        code: "InvalidArgument",
      });
    }
    expect(await ossError(await process(path, "image/watermark,t_50"))).toMatchObject({
      code: "MissingArgument",
    });
  });

  it("changes the cached variant when the watermark image is overwritten", async () => {
    const { path, markKey, mark } = await setup();
    const first = await decoded(await process(path, `image/watermark,image_${mark}`));
    expectColour(first, 175, 85, RED, 0);
    await env.DEMO.put(markKey, await encode.png(solid(20, 10, GREEN)));
    const second = await decoded(await process(path, `image/watermark,image_${mark}`));
    expectColour(second, 175, 85, GREEN, 0);
  });

  it("composes after a resize", async () => {
    const { path, mark } = await setup();
    const out = await decoded(
      await process(path, `image/resize,w_100/watermark,image_${mark},g_nw,x_0,y_0/format,jpg`),
    );
    expect([out.width, out.height, out.format]).toEqual([100, 50, "jpg"]);
    expectColour(out, 5, 5, RED);
    expectColour(out, 50, 25, BLUE);
  });
});

describe("text watermark", () => {
  const WHITE_BG = [255, 255, 255, 255] as const;
  const white = async () => upload("white.png", await encode.png(solid(400, 200, WHITE_BG)));

  it("answers WatermarkError while the font is not installed", async () => {
    const path = await white();
    const error = await ossError(
      await process(path, `image/watermark,text_${base64("Hi")},type_${base64("wqy-microhei")}`),
    );
    expect(error).toMatchObject({ status: 400, code: "WatermarkError" });
  });

  describe("with fonts", () => {
    beforeAll(async () => {
      await env.FONTS.put("noto-sans-sc", await fontFile("noto-sans-sc"));
    });

    it("draws black text at the bottom right by default", async () => {
      const out = await decoded(await process(await white(), `image/watermark,text_${base64("Hello")}`));
      const box = changedBox(out, WHITE_BG);
      expect(box).toBeDefined();
      const { left, top, width, height } = box as NonNullable<typeof box>;
      // 40 px text, 10 px from the right and bottom edges.
      expect(left + width).toBeLessThanOrEqual(390);
      expect(left + width).toBeGreaterThan(370);
      expect(top + height).toBeLessThanOrEqual(190);
      expect(height).toBeGreaterThan(20);
      expect(height).toBeLessThan(45);
      expect(width).toBeGreaterThan(60);
      expectColour(out, 10, 10, WHITE_BG, 0);
    });

    it("draws in colour_ and size_, and CJK text", async () => {
      const red = await decoded(
        await process(await white(), `image/watermark,text_${base64("水印 Text")},color_FF0000,size_80,g_nw`),
      );
      const box = changedBox(red, WHITE_BG) as NonNullable<ReturnType<typeof changedBox>>;
      expect(box.height).toBeGreaterThan(50);
      expect(box.left).toBeGreaterThanOrEqual(10);
      let reddest = 0;
      for (let i = 0; i < red.data.length; i += 4) {
        if (red.data[i] > 200 && red.data[i + 1] < 60) reddest++;
      }
      expect(reddest).toBeGreaterThan(200);
      const small = await decoded(
        await process(await white(), `image/watermark,text_${base64("水印 Text")},size_20,g_nw`),
      );
      const smallBox = changedBox(small, WHITE_BG) as NonNullable<ReturnType<typeof changedBox>>;
      expect(smallBox.width * 3).toBeLessThan(box.width);
    });

    it("draws with an installed Debian face in preference to Noto Sans SC", async () => {
      // A font whose 字 is a solid em square stands in for Debian's Droid Sans Fallback.
      const block = buildFont([{ contours: [square(0, 0, 100)] }, { contours: [square(0, -200, 1000)] }], {
        23383: 1,
      });
      await env.FONTS.put("droidsansfallback", block);
      try {
        const value = `image/watermark,text_${base64("字")},size_40,g_nw,x_0,y_0,type_${base64("droidsansfallback")}`;
        const out = await decoded(await process(await white(), value));
        const box = changedBox(out, WHITE_BG) as NonNullable<ReturnType<typeof changedBox>>;
        // A solid 40 x 40 square: every pixel inside it is black.
        expect([box.width, box.height]).toEqual([40, 40]);
        for (const [x, y] of [
          [5, 5],
          [20, 20],
          [35, 35],
        ])
          expectColour(out, box.left + x, box.top + y, [0, 0, 0, 255], 8);
      } finally {
        await env.FONTS.delete("droidsansfallback");
      }
    });

    it("draws every OSS font name, and unknown names, with a font that is always present", async () => {
      const names = [
        "wqy-zenhei",
        "wqy-microhei",
        "fangzhengshusong",
        "fangzhengkaiti",
        "fangzhengheiti",
        "fangzhengfangsong",
        "droidsansfallback",
        "comic-sans",
      ];
      for (const name of names) {
        const value = `image/watermark,text_${base64("水印 Text")},type_${base64(name)}`;
        const out = await decoded(await process(await white(), value));
        const box = changedBox(out, WHITE_BG);
        expect(box, name).toBeDefined();
        expect(box?.height, name).toBeGreaterThan(25);
      }
    });

    it("adds a shadow and turns the text with rotate_", async () => {
      const plain = changedBox(
        await decoded(
          await process(await white(), `image/watermark,text_${base64("Shadow")},g_nw,color_FFFFFF`),
        ),
        WHITE_BG,
      );
      expect(plain).toBeUndefined();
      const shadowed = changedBox(
        await decoded(
          await process(
            await white(),
            `image/watermark,text_${base64("Shadow")},g_nw,color_FFFFFF,shadow_100`,
          ),
        ),
        WHITE_BG,
      );
      expect(shadowed).toBeDefined();
      const flat = changedBox(
        await decoded(await process(await white(), `image/watermark,text_${base64("Turned")},g_nw`)),
        WHITE_BG,
      ) as NonNullable<ReturnType<typeof changedBox>>;
      const turned = changedBox(
        await decoded(
          await process(await white(), `image/watermark,text_${base64("Turned")},g_nw,rotate_90`),
        ),
        WHITE_BG,
      ) as NonNullable<ReturnType<typeof changedBox>>;
      expect(flat.width).toBeGreaterThan(flat.height);
      expect(turned.height).toBeGreaterThan(turned.width);
    });

    it("puts image and text side by side with order, align and interval", async () => {
      const path = await white();
      const markKey = uniqueKey("m.png");
      await put(markKey, await encode.png(solid(30, 60, RED)));
      const value = `image/watermark,image_${base64(markKey)},text_${base64("AB")},g_nw,x_0,y_0,interval_20,align_2`;
      const out = await decoded(await process(path, value));
      expectColour(out, 15, 30, RED, 0);
      // The text follows the image after the 20 px interval, aligned to the bottom of the 60 px image.
      const text = changedBox({ width: out.width - 50, height: out.height, data: cut(out, 50) }, WHITE_BG);
      expect(text?.left).toBeLessThan(10);
      expect(text?.top).toBeGreaterThan(15);
      const textFirst = await decoded(await process(path, `${value},order_1`));
      const red = changedBox(textFirst, [255, 0, 0, 255] as const, 200);
      expect(redColumns(textFirst).left).toBeGreaterThan(30);
      expect(red).toBeDefined();
    });

    it("tiles text with fill_1", async () => {
      const out = await decoded(
        await process(await white(), `image/watermark,text_${base64("tile")},size_20,fill_1,padx_30,pady_30`),
      );
      const box = changedBox(out, WHITE_BG) as NonNullable<ReturnType<typeof changedBox>>;
      expect(box.left).toBeLessThan(5);
      expect(box.top).toBeLessThan(10);
      expect(box.left + box.width).toBeGreaterThan(300);
      expect(box.top + box.height).toBeGreaterThan(150);
    });

    it("validates text parameters", async () => {
      const path = await white();
      expect(
        await ossError(await process(path, `image/watermark,text_${base64("x".repeat(65))}`)),
      ).toMatchObject({ code: "InvalidArgument" });
      expect(await ossError(await process(path, `image/watermark,text_${base64("a\nb")}`))).toMatchObject({
        code: "InvalidArgument",
      });
      expect(await ossError(await process(path, "image/watermark,text_***"))).toMatchObject({
        code: "BadRequest",
      });
      for (const bad of [
        "size_0",
        "size_1001",
        "shadow_101",
        "rotate_361",
        "color_red",
        "order_2",
        "align_3",
        "interval_1001",
      ]) {
        expect(
          await ossError(await process(path, `image/watermark,text_${base64("x")},${bad}`)),
          bad,
        ).toMatchObject({ code: "InvalidArgument" });
      }
    });
  });
});

/** The leftmost column holding pure red. */
function redColumns(image: { width: number; height: number; data: Uint8ClampedArray }): { left: number } {
  for (let x = 0; x < image.width; x++) {
    for (let y = 0; y < image.height; y++) {
      const i = (y * image.width + x) * 4;
      if (image.data[i] > 240 && image.data[i + 1] < 20 && image.data[i + 2] < 20) return { left: x };
    }
  }
  return { left: -1 };
}

/** The columns from `from` to the right edge, as their own raster data. */
function cut(
  image: { width: number; height: number; data: Uint8ClampedArray },
  from: number,
): Uint8ClampedArray {
  const width = image.width - from;
  const out = new Uint8ClampedArray(width * image.height * 4);
  for (let y = 0; y < image.height; y++) {
    out.set(
      image.data.subarray((y * image.width + from) * 4, (y * image.width + image.width) * 4),
      y * width * 4,
    );
  }
  return out;
}
