import { describe, expect, it } from "vitest";
import { encode, fixture, ossError, process, quadrants, upload, withOrientation } from "./helpers";

type Info = Record<string, { value: string }>;

describe("info", () => {
  it("reports size, format, frames and EXIF of a JPEG as OSS's JSON", async () => {
    const jpeg = withOrientation(await encode.jpg(quadrants(400, 267)), 6);
    const path = await upload("info.jpg", jpeg);
    const res = await process(path, "image/info");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("application/json");
    const info = await res.json<Info>();
    expect(info).toMatchObject({
      FileSize: { value: String(jpeg.length) },
      Format: { value: "jpg" },
      FrameCount: { value: "1" },
      ImageHeight: { value: "267" },
      ImageWidth: { value: "400" },
      Orientation: { value: "6" },
    });
    expect(Object.keys(info)).toEqual([...Object.keys(info)].sort());
  });

  it("reports PNG, WebP and AVIF sizes, and no EXIF for PNG", async () => {
    for (const kind of ["png", "webp", "avif"] as const) {
      const path = await upload(`info.${kind}`, await encode[kind](quadrants(30, 20)));
      const info = await (await process(path, "image/info")).json<Info>();
      expect([info.Format.value, info.ImageWidth.value, info.ImageHeight.value], kind).toEqual([
        kind,
        "30",
        "20",
      ]);
    }
  });

  it("reads a CMYK JPEG's header without decoding", async () => {
    const path = await upload("cmyk.jpg", fixture("cmyk-quadrants.jpg"));
    const info = await (await process(path, "image/info")).json<Info>();
    expect([info.ImageWidth.value, info.ImageHeight.value]).toEqual(["64", "48"]);
  });

  it("must stand alone", async () => {
    const path = await upload("alone.jpg", await encode.jpg(quadrants(30, 20)));
    for (const value of ["image/resize,w_10/info", "image/info/format,png", "image/info,x_1"]) {
      expect(await ossError(await process(path, value)), value).toMatchObject({
        status: 400,
        code: "InvalidArgument",
      });
    }
  });
});
