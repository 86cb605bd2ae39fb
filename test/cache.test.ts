import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { variantCacheKey } from "../src/cache";
import { decoded, encode, ORIGIN, ossError, process, put, quadrants, request, uniqueKey } from "./helpers";

/** Requests until the variant is served from the cache (the write happens after the response). */
async function untilHit(path: string, value: string): Promise<Response> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const res = await process(path, value);
    if (res.headers.get("X-Cache") === "HIT") return res;
    await res.arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error("never served from the cache");
}

const cacheKeyFor = (key: string, value: string, etag: string) =>
  variantCacheKey(ORIGIN, "demo", key, value, etag);

describe("edge cache", () => {
  it("serves a repeated variant from the cache with the same bytes and headers", async () => {
    const key = uniqueKey("cached.jpg");
    await put(key, await encode.jpg(quadrants(200, 100)), "image/jpeg");
    const path = `/demo/${key}`;
    const first = await process(path, "image/resize,w_100");
    expect(first.headers.get("X-Cache")).toBe("MISS");
    expect(first.headers.get("Content-Type")).toBe("image/jpeg");
    expect(first.headers.get("Cache-Control")).toBe("public, max-age=3600");
    expect(first.headers.get("ETag")).toMatch(/^"[0-9A-F]{40}"$/);
    expect(first.headers.get("Last-Modified")).toBeTruthy();
    const firstBytes = new Uint8Array(await first.arrayBuffer());
    expect(first.headers.get("Content-Length")).toBe(String(firstBytes.length));

    const hit = await untilHit(path, "image/resize,w_100");
    expect(hit.headers.get("ETag")).toBe(first.headers.get("ETag"));
    expect(hit.headers.get("Cache-Control")).toBe("public, max-age=3600");
    expect(new Uint8Array(await hit.arrayBuffer())).toEqual(firstBytes);
  });

  it("shares one variant between spellings of the same process string", async () => {
    const key = uniqueKey("normal.jpg");
    await put(key, await encode.jpg(quadrants(200, 100)));
    await untilHit(`/demo/${key}`, "image/resize,w_100,m_lfit");
    const other = await process(`/demo/${key}`, "image/resize,m_lfit,,w_100/");
    expect(other.headers.get("X-Cache")).toBe("HIT");
  });

  it("never serves a variant of the old bytes after the object is overwritten", async () => {
    const key = uniqueKey("overwrite.jpg");
    const path = `/demo/${key}`;
    await put(key, await encode.jpg(quadrants(200, 100)));
    await untilHit(path, "image/resize,w_100");

    await put(key, await encode.jpg(quadrants(100, 200)));
    const after = await process(path, "image/resize,w_100");
    expect(after.headers.get("X-Cache")).toBe("MISS");
    const out = await decoded(after);
    expect([out.width, out.height]).toEqual([100, 200]);
  });

  it("answers If-None-Match on a processed variant with 304", async () => {
    const key = uniqueKey("etag.jpg");
    await put(key, await encode.jpg(quadrants(200, 100)));
    const first = await process(`/demo/${key}`, "image/resize,w_100");
    const etag = first.headers.get("ETag") as string;
    await first.arrayBuffer();
    const again = await process(`/demo/${key}`, "image/resize,w_100", { headers: { "If-None-Match": etag } });
    expect(again.status).toBe(304);
    expect(again.headers.get("ETag")).toBe(etag);
  });

  it("uses the object's own Cache-Control for processed responses when it has one", async () => {
    const key = uniqueKey("cc.jpg");
    await env.DEMO.put(key, await encode.jpg(quadrants(40, 20)), {
      httpMetadata: { cacheControl: "no-store" },
    });
    const res = await process(`/demo/${key}`, "image/resize,w_10");
    expect(res.headers.get("Cache-Control")).toBe("no-store");
  });

  it("caches nothing for a request that fails", async () => {
    const key = uniqueKey("broken.jpg");
    const object = await put(key, new TextEncoder().encode("not an image"));
    const res = await process(`/demo/${key}`, "image/resize,w_10");
    expect(await ossError(res)).toMatchObject({ status: 400, code: "BadRequest" });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(
      await caches.default.match(cacheKeyFor(key, "image/resize,w_10", object.httpEtag)),
    ).toBeUndefined();
    const again = await process(`/demo/${key}`, "image/resize,w_10");
    expect(again.headers.get("X-Cache")).toBeNull();
    expect(again.status).toBe(400);
  });

  it("stores the variant under the documented key", async () => {
    const key = uniqueKey("key.jpg");
    const object = await put(key, await encode.jpg(quadrants(40, 20)));
    await untilHit(`/demo/${key}`, "image/resize,w_10");
    expect(await caches.default.match(cacheKeyFor(key, "image/resize,w_10", object.httpEtag))).toBeDefined();
  });

  it("leaves plain object requests out of the variant cache", async () => {
    const key = uniqueKey("plain.jpg");
    await put(key, await encode.jpg(quadrants(40, 20)));
    const res = await request(`/demo/${key}`);
    expect(res.headers.get("X-Cache")).toBeNull();
    await res.arrayBuffer();
  });
});
