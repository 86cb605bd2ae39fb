import { describe, expect, it } from "vitest";
import { readHeader } from "../src/image/header";
import { decodeGifFrames, readGifAnimation } from "./gif-reference";
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

/** The animation fixture: 60x40, three frames rotating the quadrant colours, 100/200/300 ms, looping. */
const anim = () => upload("anim.gif", fixture("anim-3frames.gif"));

async function frames(response: Response) {
  const out = await decoded(response);
  expect(out.format).toBe("gif");
  return { out, animation: readGifAnimation(out.bytes), frames: [...decodeGifFrames(out.bytes)] };
}

describe("GIF", () => {
  it("reports frames in info", async () => {
    const info = await (await process(await anim(), "image/info")).json<Record<string, { value: string }>>();
    expect([info.Format.value, info.FrameCount.value, info.ImageWidth.value]).toEqual(["gif", "3", "60"]);
  });

  it("keeps every frame and its timing through a resize by width", async () => {
    const result = await frames(await process(await anim(), "image/resize,w_30"));
    expect([result.out.width, result.out.height]).toEqual([30, 20]);
    expect(result.frames.map((frame) => frame.delayMs)).toEqual([100, 200, 300]);
    expect(result.animation.loopCount).toBe(0);
    const [first, second, third] = result.frames.map((frame) => frame.image);
    expectColour(first, 3, 3, RED, 40);
    expectColour(second, 3, 3, GREEN, 40);
    expectColour(third, 3, 3, BLUE, 40);
    expectColour(first, 27, 17, YELLOW, 40);
  });

  it("never enlarges a GIF, even with limit_0", async () => {
    const result = await frames(await process(await anim(), "image/resize,w_120,limit_0"));
    expect([result.out.width, result.out.height, result.frames.length]).toEqual([60, 40, 3]);
  });

  it("makes the image static for p resizes, rotate and crop", async () => {
    const path = await anim();
    for (const [value, size] of [
      ["image/resize,p_50", [30, 20]],
      ["image/rotate,90", [40, 60]],
      ["image/crop,w_20,h_20", [20, 20]],
    ] as const) {
      const result = await frames(await process(path, value));
      expect([result.out.width, result.out.height], value).toEqual(size);
      expect(result.frames.length, value).toBe(1);
    }
  });

  it("takes the first frame for formats that cannot animate, and keeps GIF and WebP animated", async () => {
    const path = await anim();
    for (const format of ["png", "jpg"]) {
      const out = await decoded(await process(path, `image/format,${format}`));
      expect([out.format, out.width, out.height]).toEqual([format, 60, 40]);
      expectColour(out, 5, 5, RED, 40);
    }
    const gif = await frames(await process(path, "image/format,gif"));
    expect(gif.frames.length).toBe(3);
    // Decision 23: GIF to WebP stays animated (test/formats-webp.test.ts reads its frames).
    const webp = readHeader(new Uint8Array(await (await process(path, "image/format,webp")).arrayBuffer()));
    expect([webp.format, webp.width, webp.height, webp.frames]).toEqual(["webp", 60, 40, 3]);
  });

  it("keeps transparency", async () => {
    const path = await upload("t.gif", fixture("transparent-left.gif"));
    const png = await decoded(await process(path, "image/format,png"));
    expect(png.data[3]).toBe(0);
    expectColour(png, 35, 5, GREEN, 0);
    const gif = await frames(await process(path, "image/resize,w_20"));
    expect(gif.frames[0].image.data[3]).toBe(0);
    expectColour(gif.frames[0].image, 18, 2, GREEN, 40);
  });

  it("refuses rounded-corners on GIF, as OSS does", async () => {
    const error = await ossError(await process(await anim(), "image/rounded-corners,r_10"));
    expect(error).toMatchObject({ status: 400, code: "InvalidArgument" });
    expect(error.message).toContain("GIF");
  });

  it("answers a damaged GIF with 400", async () => {
    const bytes = fixture("anim-3frames.gif");
    const path = await upload("broken.gif", bytes.slice(0, 60));
    expect(await ossError(await process(path, "image/resize,w_30"))).toMatchObject({
      status: 400,
      code: "BadRequest",
    });
  });
});
