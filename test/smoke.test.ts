import { describe, expect, it } from "vitest";
import { decoded, encode, jpegFrameType, process, quadrants, upload } from "./helpers";

describe("smoke", () => {
  it("resizes to a progressive jpeg", async () => {
    const path = await upload("a.jpg", await encode.jpg(quadrants(400, 300)), "image/jpeg");
    const res = await process(path, "image/resize,w_200/interlace,1");
    const out = await decoded(res);
    expect([out.width, out.height, out.format, jpegFrameType(out.bytes)]).toEqual([200, 150, "jpg", "SOF2"]);
  });
});
