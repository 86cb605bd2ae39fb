// The playground (src/playground/): off unless the Worker var PLAYGROUND is "on", and then a page plus
// JSON endpoints. wrangler.toml leaves it off, so requests through SELF see it off; the "on" tests call
// the Worker's fetch handler with PLAYGROUND added to the env.
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { encode, ORIGIN, ossError, put, quadrants, request, uniqueKey, upload } from "./helpers";

async function fetchWith(vars: Record<string, string>, path: string): Promise<Response> {
  const context = createExecutionContext();
  const response = await worker.fetch(new Request(new URL(path, ORIGIN)), { ...env, ...vars }, context);
  await waitOnExecutionContext(context);
  return response;
}

const on = (path: string) => fetchWith({ PLAYGROUND: "on" }, path);

const throttled = (path: string, extra = "") =>
  on(`/_playground/api/throttled?path=${encodeURIComponent(path)}${extra}`);

describe("playground off", () => {
  it("leaves /_playground paths to the OSS routes: keys of the default bucket", async () => {
    for (const path of [
      "/_playground",
      "/_playground/",
      "/_playground/api/buckets",
      "/_playground/api/throttled?path=%2Fdemo%2Fx.jpg",
    ]) {
      expect(await ossError(await request(path)), path).toMatchObject({ status: 404, code: "NoSuchKey" });
    }
  });

  it("serves an object stored under _playground/ as before", async () => {
    const key = "_playground/api/buckets";
    await put(key, new TextEncoder().encode("stored"), "text/plain");
    try {
      const response = await request(`/${key}`);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe("stored");
    } finally {
      await env.DEMO.delete(key);
    }
  });

  it("stays off for any value but on", async () => {
    for (const value of ["", "off", "true", "ON"]) {
      const response = await fetchWith({ PLAYGROUND: value }, "/_playground");
      expect(await ossError(response), value).toMatchObject({ status: 404, code: "NoSuchKey" });
    }
  });
});

describe("playground on", () => {
  it("serves the page", async () => {
    for (const path of ["/_playground", "/_playground/"]) {
      const response = await on(path);
      expect(response.status, path).toBe(200);
      expect(response.headers.get("Content-Type")).toBe("text/html; charset=utf-8");
      expect(response.headers.get("Content-Security-Policy")).toContain("default-src 'self'");
      expect(response.headers.get("x-oss-request-id")).toMatch(/^[0-9A-F]{24}$/);
      const html = await response.text();
      expect(html).toContain("<title>x-oss-process playground</title>");
      expect(html).toContain('id="result-img"');
    }
  });

  it("lists the public-read buckets only", async () => {
    const response = await on("/_playground/api/buckets");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ buckets: ["demo", "demo-auto"], defaultBucket: "demo" });
  });

  it("lists every object under a prefix, page by page, marking the images", async () => {
    const prefix = uniqueKey("list/");
    await put(`${prefix}a.jpg`, new Uint8Array([1, 2, 3]), "image/jpeg");
    await put(`${prefix}b.png`, new Uint8Array([4]));
    await put(`${prefix}c.txt`, new Uint8Array([5, 6]), "text/plain");

    const first = await on(
      `/_playground/api/objects?bucket=demo&prefix=${encodeURIComponent(prefix)}&limit=2`,
    );
    expect(first.status).toBe(200);
    const page1 = (await first.json()) as { objects: { key: string }[]; cursor?: string };
    expect(page1.objects).toHaveLength(2);
    expect(page1.cursor).toBeTypeOf("string");

    const second = await on(
      `/_playground/api/objects?bucket=demo&prefix=${encodeURIComponent(prefix)}&limit=2&cursor=${encodeURIComponent(page1.cursor ?? "")}`,
    );
    const page2 = (await second.json()) as { objects: { key: string }[]; cursor?: string };
    expect(page2.cursor).toBeUndefined();
    const objects = [...page1.objects, ...page2.objects];
    expect(objects).toMatchObject([
      { key: `${prefix}a.jpg`, size: 3, contentType: "image/jpeg", image: true },
      { key: `${prefix}b.png`, size: 1, image: true },
      { key: `${prefix}c.txt`, size: 2, contentType: "text/plain", image: false },
    ]);
  });

  it("refuses to list private or unknown buckets, and bad limits", async () => {
    for (const bucket of ["demo-private", "nope", ""]) {
      const response = await on(`/_playground/api/objects?bucket=${bucket}`);
      expect(response.status, bucket).toBe(404);
      expect(await response.json()).toHaveProperty("error");
    }
    for (const limit of ["0", "1001", "abc"]) {
      expect((await on(`/_playground/api/objects?bucket=demo&limit=${limit}`)).status, limit).toBe(400);
    }
  });

  it("answers unknown playground endpoints with a JSON 404", async () => {
    const response = await on("/_playground/api/nothing");
    expect(response.status).toBe(404);
    expect(await response.json()).toHaveProperty("error");
  });
});

describe("playground throttled loads", () => {
  it("runs a processed request through the Worker and streams the same bytes slowly", async () => {
    const path = await upload("throttle.png", await encode.png(quadrants(40, 30)), "image/png");
    const processed = `${path}?x-oss-process=image/resize,w_20`;
    const direct = new Uint8Array(await (await request(processed)).arrayBuffer());

    const started = Date.now();
    const response = await throttled(processed, "&chunk=64&delay=20");
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("image/png");
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    expect(response.headers.get("X-Playground-Throttle")).toBe("64 B every 20 ms");
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const chunks: Uint8Array[] = [];
    for (let read = await reader.read(); !read.done; read = await reader.read()) chunks.push(read.value);
    const bytes = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
    chunks.reduce((at, chunk) => {
      bytes.set(chunk, at);
      return at + chunk.length;
    }, 0);
    expect(bytes).toEqual(direct);
    const pauses = Math.ceil(direct.length / 64) - 1;
    expect(Date.now() - started).toBeGreaterThanOrEqual(pauses * 20 * 0.8);
  });

  it("passes the Worker's errors through", async () => {
    const response = await throttled(`/demo/${uniqueKey("missing.jpg")}?x-oss-process=image/resize,w_10`);
    // Not ossError(): the body holds the inner request's id, the header the outer one's.
    expect(response.status).toBe(404);
    expect(response.headers.get("Content-Type")).toBe("application/xml");
    expect(await response.text()).toContain("<Code>NoSuchKey</Code>");
  });

  it("accepts same-origin paths only, never the playground itself", async () => {
    for (const path of [
      "",
      "demo/a.jpg",
      "http://evil.example/a.jpg",
      `${ORIGIN}/demo/a.jpg`,
      "//evil.example/a.jpg",
      "/\\evil.example/a.jpg",
      "/\t/evil.example/a.jpg",
      "/_playground",
      "/_playground/api/throttled?path=%2Fdemo%2Fa.jpg",
      "/%5Fplayground/api/buckets",
    ]) {
      const response = await throttled(path);
      expect(response.status, JSON.stringify(path)).toBe(400);
      expect(await response.json()).toHaveProperty("error");
    }
  });

  it("refuses chunk sizes and delays out of range", async () => {
    for (const extra of ["&chunk=1", "&chunk=x", "&delay=-1", "&delay=60000"]) {
      expect((await throttled("/demo/a.jpg", extra)).status, extra).toBe(400);
    }
  });
});
