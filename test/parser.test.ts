import { describe, expect, it } from "vitest";
import { decoded, encode, ossError, process, quadrants, request, upload } from "./helpers";

describe("process string", () => {
  it("accepts raw and percent-encoded process strings alike", async () => {
    const path = await upload("enc.jpg", await encode.jpg(quadrants(200, 100)));
    const raw = await decoded(await process(path, "image/resize,w_100/rotate,90"));
    const encoded = await decoded(await process(path, encodeURIComponent("image/resize,w_100/rotate,90")));
    expect([raw.width, raw.height]).toEqual([50, 100]);
    expect([encoded.width, encoded.height]).toEqual([50, 100]);
  });

  it("ignores empty segments and parameters, and takes other query parameters alongside", async () => {
    const path = await upload("empty.jpg", await encode.jpg(quadrants(200, 100)));
    const out = await decoded(await request(`${path}?foo=bar&x-oss-process=image/resize,,w_50,//&z=1`));
    expect([out.width, out.height]).toEqual([50, 25]);
  });

  it("re-encodes in the source format for image/ with no action", async () => {
    const path = await upload("noop.png", await encode.png(quadrants(20, 10)));
    const out = await decoded(await process(path, "image"));
    expect([out.format, out.width]).toEqual(["png", 20]);
  });

  it("rejects unknown actions and parameters with InvalidArgument", async () => {
    const path = await upload("unknown.jpg", await encode.jpg(quadrants(20, 10)));
    for (const value of [
      "image/zoom,w_10",
      "image/resize,w_10,zz_1",
      "image/Resize,w_10",
      "image/rotate,90,180",
      "image/format",
      "images/resize,w_10",
      "resize,w_10",
    ]) {
      expect(await ossError(await process(path, value)), value).toMatchObject({
        status: 400,
        code: "InvalidArgument",
      });
    }
  });

  it("names doc/, video/ and audio/ processing as unsupported", async () => {
    const path = await upload("doc.jpg", await encode.jpg(quadrants(20, 10)));
    for (const kind of ["doc/preview", "video/snapshot,t_1000", "audio/convert,f_mp3"]) {
      const error = await ossError(await process(path, kind));
      expect(error).toMatchObject({ status: 400, code: "InvalidArgument" });
      expect(error.message).toContain(kind.split("/")[0]);
    }
  });

  it("refuses sys/saveas and pipelines in a GET", async () => {
    const path = await upload("saveas.jpg", await encode.jpg(quadrants(20, 10)));
    const error = await ossError(await process(path, "image/resize,w_10|sys/saveas,o_dGVzdC5qcGc"));
    expect(error).toMatchObject({ status: 400, code: "InvalidArgument" });
    expect(error.message).toContain("sys/saveas");
    expect(await ossError(await process(path, "sys/saveas,o_dGVzdC5qcGc"))).toMatchObject({ status: 400 });
  });

  it("answers an empty x-oss-process with InvalidArgument", async () => {
    const path = await upload("e.jpg", await encode.jpg(quadrants(20, 10)));
    expect(await ossError(await request(`${path}?x-oss-process=`))).toMatchObject({
      code: "InvalidArgument",
    });
  });

  it("validates the process string before reading the object", async () => {
    const res = await process("/demo/does-not-exist.jpg", "image/resize,w_0");
    expect(await ossError(res)).toMatchObject({ status: 400, code: "InvalidArgument" });
    const missing = await process("/demo/does-not-exist.jpg", "image/resize,w_10");
    expect(await ossError(missing)).toMatchObject({ status: 404, code: "NoSuchKey" });
  });

  it("keeps + literal in process strings (it is Base64, not a space)", async () => {
    const path = await upload("plus.jpg", await encode.jpg(quadrants(20, 10)));
    const error = await ossError(await process(path, "image/resize,w_1+0"));
    expect(error.message).toContain("1+0");
  });
});
