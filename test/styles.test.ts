import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { decoded, encode, ossError, process, put, quadrants, request, uniqueKey, upload } from "./helpers";

async function defineStyle(content: string): Promise<string> {
  const name = `s${crypto.randomUUID().slice(0, 8)}`;
  await env.STYLES.put(`demo/${name}`, content);
  return name;
}

describe("styles", () => {
  it("applies style/<name> from the bucket's style store", async () => {
    const style = await defineStyle("image/resize,w_50/format,png");
    const path = await upload("styled.jpg", await encode.jpg(quadrants(200, 100)));
    const out = await decoded(await process(path, `style/${style}`));
    expect([out.width, out.height, out.format]).toEqual([50, 25, "png"]);
  });

  it("applies <key>!<name>", async () => {
    const style = await defineStyle("image/resize,w_40");
    const key = uniqueKey("bang.jpg");
    await put(key, await encode.jpg(quadrants(200, 100)));
    const out = await decoded(await request(`/demo/${key}!${style}`));
    expect([out.width, out.height]).toEqual([40, 20]);
  });

  it("keeps styles per bucket", async () => {
    const name = `s${crypto.randomUUID().slice(0, 8)}`;
    await env.STYLES.put(`demo-private/${name}`, "image/resize,w_40");
    const path = await upload("other-bucket.jpg", await encode.jpg(quadrants(200, 100)));
    expect(await ossError(await process(path, `style/${name}`))).toMatchObject({
      status: 404,
      code: "NoSuchStyle",
    });
  });

  it("serves keys whose text after ! is no style name, and does not treat - as a delimiter by default", async () => {
    const key = uniqueKey("a!b c/x-y.jpg");
    await put(key, await encode.jpg(quadrants(20, 10)));
    const res = await request(`/demo/${key.split("/").map(encodeURIComponent).join("/")}`);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  });

  it("answers a missing style with 404 NoSuchStyle", async () => {
    const path = await upload("nostyle.jpg", await encode.jpg(quadrants(20, 10)));
    expect(await ossError(await process(path, "style/nope"))).toMatchObject({
      status: 404,
      code: "NoSuchStyle",
    });
    expect(await ossError(await request(`${path}!nope`))).toMatchObject({ status: 404, code: "NoSuchStyle" });
  });

  it("answers an invalid style name with 400 InvalidArgument", async () => {
    const path = await upload("badstyle.jpg", await encode.jpg(quadrants(20, 10)));
    for (const name of ["", "a b", "x".repeat(64), "a/b", "caf%C3%A9"]) {
      expect(await ossError(await process(path, `style/${name}`)), name).toMatchObject({
        status: 400,
        code: "InvalidArgument",
      });
    }
  });

  it("refuses a style URL that also carries x-oss-process", async () => {
    const style = await defineStyle("image/resize,w_40");
    const path = await upload("both.jpg", await encode.jpg(quadrants(20, 10)));
    expect(await ossError(await request(`${path}!${style}?x-oss-process=image/rotate,90`))).toMatchObject({
      code: "InvalidArgument",
    });
  });

  it("reports a broken style's content as InvalidArgument", async () => {
    const style = await defineStyle("image/zoom,w_10");
    const path = await upload("broken.jpg", await encode.jpg(quadrants(20, 10)));
    expect(await ossError(await process(path, `style/${style}`))).toMatchObject({ code: "InvalidArgument" });
  });

  it("caches by the style's content, so an edited style is never served stale", async () => {
    const style = await defineStyle("image/resize,w_40");
    const path = await upload("edit.jpg", await encode.jpg(quadrants(200, 100)));
    expect((await decoded(await process(path, `style/${style}`))).width).toBe(40);
    await env.STYLES.put(`demo/${style}`, "image/resize,w_60");
    expect((await decoded(await process(path, `style/${style}`))).width).toBe(60);
  });
});
