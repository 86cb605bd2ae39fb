import { env } from "cloudflare:test";
import MOZJPEG_ENCODER from "@jsquash/jpeg/codec/enc/mozjpeg_enc.wasm";
import encodeMozjpeg, { init as initMozjpegEncoder } from "@jsquash/jpeg/encode";
import { describe, expect, it } from "vitest";
import {
  decoded,
  encode,
  expectColour,
  fixture,
  ossError,
  process,
  quadrants,
  RED,
  upload,
  YELLOW,
} from "./helpers";

/**
 * A JPEG header claiming any size: SOI, SOF, SOS, EOI, 4:2:0 YCbCr. Decoding it fails; a request
 * refused by the plan never gets there. `frame` 0xc2 makes it progressive; `scan` "luma" makes
 * the first scan carry one component (a baseline JPEG in several scans).
 */
function jpegClaiming(width: number, height: number, frame = 0xc0, scan: "all" | "luma" = "all"): Uint8Array {
  // biome-ignore format: one marker segment per line
  return new Uint8Array([
    0xff, 0xd8,
    0xff, frame, 0x00, 0x11, 0x08, height >> 8, height & 0xff, width >> 8, width & 0xff,
    0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01,
    ...(scan === "all"
      ? [0xff, 0xda, 0x00, 0x0c, 0x03, 0x01, 0x00, 0x02, 0x11, 0x03, 0x11, 0x00, 0x3f, 0x00]
      : [0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00]),
    0xff, 0xd9,
  ]);
}

/** A PNG signature and IHDR claiming any size (8-bit RGBA); nothing after it. */
/** The PNG with its IHDR's interlace method set to Adam7. */
function interlaced(png: Uint8Array): Uint8Array {
  const copy = png.slice();
  copy[28] = 1;
  return copy;
}

function pngClaiming(width: number, height: number): Uint8Array {
  const bytes = new Uint8Array(33);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
  const view = new DataView(bytes.buffer);
  view.setUint32(16, width);
  view.setUint32(20, height);
  bytes.set([8, 6, 0, 0, 0], 24);
  return bytes;
}

describe("sources", () => {
  it("decodes greyscale JPEG", async () => {
    // The service never writes greyscale JPEG, so make one with mozjpeg directly (color_space 1 = GRAYSCALE).
    await initMozjpegEncoder(MOZJPEG_ENCODER);
    const greyscale = new Uint8Array(await encodeMozjpeg(quadrants(64, 48), { quality: 90, color_space: 1 }));
    const path = await upload("grey.jpg", greyscale);
    const out = await decoded(await process(path, "image/resize,w_32/format,png"));
    expect([out.width, out.height]).toEqual([32, 24]);
    const [r, g, b] = Array.from(out.data.subarray(0, 3));
    expect(r).toBe(g);
    expect(g).toBe(b);
  });

  it("decodes Adobe CMYK JPEG with the right hues, not inverted", async () => {
    // sharp wrote this file from red/green/blue/yellow quadrants through its CMYK profile and embeds
    // no ICC profile, so there is no single right RGB: sharp reads it back as (232,0,21) (191,207,0)
    // (27,60,140) (253,237,0); device CMYK gives purer colours. Both must land in the same hue family,
    // and an inverted or YCCK-misread image would not.
    const path = await upload("cmyk.jpg", fixture("cmyk-quadrants.jpg"));
    const out = await decoded(await process(path, "image/format,png"));
    expect([out.width, out.height]).toEqual([64, 48]);
    const [red, green, blue, yellow] = [
      [8, 8],
      [56, 8],
      [8, 40],
      [56, 40],
    ].map(([x, y]) => Array.from(out.data.subarray((y * 64 + x) * 4, (y * 64 + x) * 4 + 3)));
    expect(red[0] > 200 && red[1] < 60 && red[2] < 60, `red ${red}`).toBe(true);
    expect(green[1] > 190 && green[2] < 60, `green ${green}`).toBe(true);
    expect(blue[2] > 130 && blue[0] < 60, `blue ${blue}`).toBe(true);
    expect(yellow[0] > 200 && yellow[1] > 200 && yellow[2] < 60, `yellow ${yellow}`).toBe(true);
  });

  it("decodes PNG, WebP and AVIF sources", async () => {
    for (const kind of ["png", "webp", "avif"] as const) {
      const path = await upload(`src.${kind}`, await encode[kind](quadrants(64, 48)));
      const out = await decoded(await process(path, "image/resize,w_32/format,png"));
      expect([out.width, out.height], kind).toEqual([32, 24]);
      expectColour(out, 4, 4, RED, 40);
      expectColour(out, 28, 20, YELLOW, 40);
    }
  });

  it("answers damaged, empty and non-image sources with 400 and an OSS error", async () => {
    const jpeg = await encode.jpg(quadrants(64, 48));
    const cases: [string, Uint8Array][] = [
      ["empty", new Uint8Array()],
      ["text", new TextEncoder().encode("hello, not an image")],
      ["truncated header", jpeg.slice(0, 40)],
      ["truncated data", jpeg.slice(0, Math.floor(jpeg.length * 0.7))],
      ["garbage after magic", new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x02, 0x12, 0x34, 0x56])],
      ["png without IHDR", new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0])],
      ["broken png", (await encode.png(quadrants(64, 48))).slice(0, 60)],
      ["broken webp", (await encode.webp(quadrants(64, 48))).slice(0, 40)],
    ];
    for (const [name, bytes] of cases) {
      const path = await upload(`bad-${name}.jpg`, bytes);
      const res = await process(path, "image/resize,w_10");
      expect(await ossError(res), name).toMatchObject({ status: 400, code: "BadRequest" });
    }
  });

  it("answers a TIFF without image data with a 400 naming TIFF, and info still", async () => {
    // A little-endian TIFF header: IFD0 with ImageWidth and ImageLength 10, no strips.
    const tiff = new Uint8Array([
      0x49, 0x49, 0x2a, 0x00, 0x08, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00,
      0x00, 0x0a, 0x00, 0x00, 0x00, 0x01, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00,
    ]);
    const path = await upload("a.tif", tiff);
    const error = await ossError(await process(path, "image/resize,w_5"));
    expect(error).toMatchObject({ status: 400, code: "BadRequest" });
    expect(error.message).toContain("TIFF");
    const info = await (await process(path, "image/info")).json<Record<string, { value: string }>>();
    expect([info.Format.value, info.ImageWidth.value]).toEqual(["tiff", "10"]);
  });
});

describe("limits", () => {
  it("refuses sources over 20 MB before reading them", async () => {
    const big = new Uint8Array(20 * 1024 * 1024 + 1);
    big.set(await encode.jpg(quadrants(16, 16)));
    const path = await upload("big.jpg", big);
    expect(await ossError(await process(path, "image/resize,w_10"))).toMatchObject({
      status: 400,
      code: "ImageTooLarge",
    });
    await env.DEMO.delete(path.slice("/demo/".length));
  });

  it("refuses sides over 30,000 px from the header alone", async () => {
    const path = await upload("wide.jpg", jpegClaiming(30_001, 10));
    expect(await ossError(await process(path, "image/resize,w_10"))).toMatchObject({ code: "ImageTooLarge" });
  });

  it("refuses what the memory budget cannot hold, before decoding", async () => {
    // 20000x15000 = 300 M px is over OSS's 250 M. The others are within OSS's limits but cannot be
    // held: a progressive JPEG decoded at full size keeps all its coefficients (128 bytes per 8x8
    // block, 100 MiB for 35 M px at 4:2:0; its thumbnails need only the DC scans), so does a
    // baseline JPEG in several scans at any size, an Adam7-interlaced PNG the whole frame, and a
    // free rotation of 108 M px a band as tall as the image.
    for (const [name, bytes, value] of [
      ["300 M px", jpegClaiming(20_000, 15_000), "image/resize,w_100"],
      ["progressive 35 M px at full size", jpegClaiming(6_900, 5_100, 0xc2), "image/quality,q_80"],
      ["baseline 35 M px in several scans", jpegClaiming(6_900, 5_100, 0xc0, "luma"), "image/resize,w_100"],
      ["Adam7 PNG 24 M px", interlaced(pngClaiming(6000, 4000)), "image/resize,w_100"],
      ["108 M px turned by 45 degrees", jpegClaiming(12_000, 9_000), "image/rotate,45"],
    ] as const) {
      const path = await upload("huge", bytes);
      expect(await ossError(await process(path, value)), name).toMatchObject({
        status: 400,
        code: "ImageTooLarge",
      });
    }
  });

  it("admits what a plan can hold: scaled-down JPEGs up to OSS's 250 M px, progressive thumbnails, turns in bands", async () => {
    // Headers only: a request that passes the plan reaches the decoder, which finds no image data.
    for (const [name, bytes, value] of [
      ["250 M px baseline", jpegClaiming(20_000, 12_500), "image/resize,w_200"],
      ["12 M px progressive", jpegClaiming(4032, 3024, 0xc2), "image/resize,w_200"],
      // Its thumbnail needs the DC scans alone, and a quarter turn of 108 M px is held in bands.
      ["35 M px progressive", jpegClaiming(6_900, 5_100, 0xc2), "image/resize,w_200"],
      ["108 M px, turned", jpegClaiming(12_000, 9_000), "image/rotate,90"],
      // PNG rows stream from the decoder: its size alone never refuses it.
      ["12 M px PNG", pngClaiming(4032, 3024), "image/resize,w_100"],
      ["100 M px PNG at full size", pngClaiming(10_000, 10_000), "image/format,png"],
    ] as const) {
      const path = await upload("claims", bytes);
      expect(await ossError(await process(path, value)), name).toMatchObject({
        code: "BadRequest",
      });
    }
  });

  it("still answers info for images too large to decode", async () => {
    const path = await upload("huge-info.jpg", jpegClaiming(12_000, 9_000));
    const info = await (await process(path, "image/info")).json<Record<string, { value: string }>>();
    expect(info.ImageWidth.value).toBe("12000");
  });
});
