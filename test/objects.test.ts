import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { BucketConfig, ServiceConfig, Env as WorkerEnv } from "../src/config";
import { OssError } from "../src/errors";
import { COPY_LIMIT_BYTES, copyObject } from "../src/http/copy-object";
import { userMetadata } from "../src/http/object-state";
import worker from "../src/index";
import {
  encode,
  ORIGIN,
  ossError,
  process,
  put,
  quadrants,
  request,
  signedV1,
  TEST_KEY,
  uniqueKey,
  upload,
} from "./helpers";

const TEXT = new TextEncoder().encode("0123456789abcdefghij");
const ORIGINAL = new TextEncoder().encode("the original bytes");

const encodePath = (key: string) => key.split("/").map(encodeURIComponent).join("/");

/** A PUT of `/<bucket>/<key>` signed with V1 (the x-oss-* headers included). */
async function signedPut(
  key: string,
  headers: Record<string, string> = {},
  body?: BodyInit,
  bucket = "demo",
) {
  return request(
    `/${bucket}/${encodePath(key)}`,
    await signedV1("PUT", `/${bucket}/${key}`, { headers, body }),
  );
}

/** The object's bytes in R2 as text, or null when there is none. */
async function stored(key: string, store: R2Bucket = env.DEMO): Promise<string | null> {
  const object = await store.get(key);
  return object ? new TextDecoder().decode(await object.arrayBuffer()) : null;
}

describe("addressing", () => {
  it("serves path-style /<bucket>/<key>", async () => {
    const path = await upload("hello.txt", TEXT, "text/plain");
    const res = await request(path);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("0123456789abcdefghij");
  });

  it("serves the whole path from the default bucket when the first segment names no bucket", async () => {
    const key = uniqueKey("nested/dir/file.txt");
    await put(key, TEXT, "text/plain");
    const res = await request(`/${key}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("0123456789abcdefghij");
  });

  it("serves virtual-hosted <bucket>.<base-domain>", async () => {
    const key = uniqueKey("v.txt");
    await env.DEMO.put(key, TEXT);
    const res = await request(`http://demo.localhost:8787/${key}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("0123456789abcdefghij");
  });

  it("serves a custom domain mapped to one bucket, whose path is the whole key", async () => {
    const key = uniqueKey("demo/inner.txt");
    await put(key, TEXT);
    const res = await request(`http://images.example.test/${key}`);
    expect(res.status).toBe(200);
  });

  it("refuses anonymous reads of a private bucket with AccessDenied, processed or not", async () => {
    const key = uniqueKey("private.txt");
    await env.DEMO_PRIVATE.put(key, TEXT);
    for (const path of [`/demo-private/${key}`, `/demo-private/${key}?x-oss-process=image/resize,w_10`]) {
      expect(await ossError(await request(path))).toMatchObject({ status: 403, code: "AccessDenied" });
    }
    expect(await ossError(await request(`http://demo-private.localhost:8787/${key}`))).toMatchObject({
      code: "AccessDenied",
    });
  });

  it("answers NoSuchBucket for an unknown virtual-hosted bucket", async () => {
    const res = await request("http://nope.localhost:8787/a.txt");
    expect(await ossError(res)).toMatchObject({ status: 404, code: "NoSuchBucket" });
  });

  it("decodes keys with spaces, slashes and any UTF-8", async () => {
    const key = uniqueKey("照片 目录/my photo+1 (2).txt");
    await put(key, TEXT);
    const encoded = key.split("/").map(encodeURIComponent).join("/");
    expect((await request(`/demo/${encoded}`)).status).toBe(200);
    // %2F in a key segment is a slash, as OSS clients encode it.
    expect((await request(`/demo/${encodeURIComponent(key)}`)).status).toBe(200);
  });

  it("rejects malformed percent-encoding with InvalidURI", async () => {
    const res = await request("/demo/bad%E0%A4%A.txt");
    expect(await ossError(res)).toMatchObject({ status: 400, code: "InvalidURI" });
  });
});

describe("stored objects", () => {
  it("returns the bytes with Content-Type, Content-Length, ETag and Last-Modified", async () => {
    const path = await upload("meta.txt", TEXT, "text/plain");
    const res = await request(path);
    expect(res.headers.get("Content-Type")).toBe("text/plain");
    expect(res.headers.get("Content-Length")).toBe("20");
    expect(res.headers.get("ETag")).toMatch(/^"[0-9a-f]{32}"$/);
    expect(Date.parse(res.headers.get("Last-Modified") ?? "")).not.toBeNaN();
    expect(res.headers.get("x-oss-request-id")).toMatch(/^[0-9A-F]{24}$/);
  });

  it("answers HEAD with the headers and no body", async () => {
    const path = await upload("head.txt", TEXT, "text/plain");
    const res = await request(path, { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Length")).toBe("20");
    expect(await res.text()).toBe("");
  });

  it("answers a missing key with 404 NoSuchKey in OSS XML", async () => {
    const res = await request(`/demo/${uniqueKey("missing.jpg")}`);
    expect(await ossError(res)).toMatchObject({ status: 404, code: "NoSuchKey" });
    const head = await request(`/demo/${uniqueKey("missing.jpg")}`, { method: "HEAD" });
    expect(head.status).toBe(404);
  });

  it("HEAD errors have no body and carry the XML error Base64-encoded in x-oss-err", async () => {
    const decoded = async (res: Response) => {
      expect(await res.text()).toBe("");
      const header = res.headers.get("x-oss-err");
      expect(header).not.toBeNull();
      const xml = new TextDecoder().decode(Uint8Array.from(atob(header as string), (c) => c.charCodeAt(0)));
      expect(xml).toMatch(/^<\?xml version="1\.0" encoding="UTF-8"\?>\n<Error>\n/);
      expect(xml).toContain(`<RequestId>${res.headers.get("x-oss-request-id")}</RequestId>`);
      return { status: res.status, code: /<Code>([^<]*)<\/Code>/.exec(xml)?.[1] };
    };
    const missing = await request(`/demo/${uniqueKey("missing.jpg")}`, { method: "HEAD" });
    expect(await decoded(missing)).toEqual({ status: 404, code: "NoSuchKey" });

    const key = uniqueKey("private.txt");
    await env.DEMO_PRIVATE.put(key, TEXT);
    const anonymous = await request(`/demo-private/${encodePath(key)}`, { method: "HEAD" });
    expect(await decoded(anonymous)).toEqual({ status: 403, code: "AccessDenied" });

    const init = await signedV1("HEAD", `/demo-private/${key}`);
    const headers = new Headers(init.headers);
    headers.set("Authorization", `${headers.get("Authorization")?.slice(0, -4)}AAA=`);
    const wrong = await request(`/demo-private/${encodePath(key)}`, { ...init, headers });
    expect(await decoded(wrong)).toEqual({ status: 403, code: "SignatureDoesNotMatch" });
  });

  it("gives 206 for a Range, including open and suffix ranges", async () => {
    const path = await upload("range.txt", TEXT);
    const part = await request(path, { headers: { Range: "bytes=2-5" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("Content-Range")).toBe("bytes 2-5/20");
    expect(await part.text()).toBe("2345");
    const open = await request(path, { headers: { Range: "bytes=15-" } });
    expect(await open.text()).toBe("fghij");
    const suffix = await request(path, { headers: { Range: "bytes=-3" } });
    expect(suffix.headers.get("Content-Range")).toBe("bytes 17-19/20");
    expect(await suffix.text()).toBe("hij");
  });

  it("ignores malformed or multiple ranges and answers 416 for a start past the end", async () => {
    const path = await upload("range2.txt", TEXT);
    expect((await request(path, { headers: { Range: "bytes=0-1,4-5" } })).status).toBe(200);
    expect((await request(path, { headers: { Range: "chars=1-2" } })).status).toBe(200);
    const past = await request(path, { headers: { Range: "bytes=20-30" } });
    expect(await ossError(past)).toMatchObject({ status: 416, code: "InvalidRange" });
  });

  it("answers conditional requests with 304 and 412", async () => {
    const path = await upload("cond.txt", TEXT);
    const first = await request(path);
    const etag = first.headers.get("ETag") as string;
    const lastModified = first.headers.get("Last-Modified") as string;
    await first.arrayBuffer();

    const byEtag = await request(path, { headers: { "If-None-Match": etag } });
    expect(byEtag.status).toBe(304);
    expect(byEtag.headers.get("ETag")).toBe(etag);
    expect((await request(path, { headers: { "If-None-Match": '"other"' } })).status).toBe(200);
    expect((await request(path, { headers: { "If-Modified-Since": lastModified } })).status).toBe(304);
    const earlier = new Date(Date.parse(lastModified) - 60_000).toUTCString();
    expect((await request(path, { headers: { "If-Modified-Since": earlier } })).status).toBe(200);

    const failed = await request(path, { headers: { "If-Match": '"other"' } });
    expect(await ossError(failed)).toMatchObject({ status: 412, code: "PreconditionFailed" });
    expect((await request(path, { headers: { "If-Match": etag } })).status).toBe(200);
    const unmodified = await request(path, { headers: { "If-Unmodified-Since": earlier } });
    expect(unmodified.status).toBe(412);
  });

  it("compares ETags as OSS does: quotes optional (oss2's resumable download), W/ ignored, hex as sent", async () => {
    const path = await upload("etag.txt", TEXT);
    const etag = (await request(path, { method: "HEAD" })).headers.get("ETag") as string;
    const bare = etag.slice(1, -1);
    for (const value of [bare, `W/${etag}`, `"other", ${bare}`, " * "]) {
      expect((await request(path, { headers: { "If-Match": value } })).status, value).toBe(200);
    }
    const part = await request(path, { headers: { "If-Match": bare, Range: "bytes=2-5" } });
    expect(part.status).toBe(206);
    expect(await part.text()).toBe("2345");
    for (const value of [bare.toUpperCase(), `"${bare.slice(1)}"`, "other"]) {
      expect(await ossError(await request(path, { headers: { "If-Match": value } })), value).toMatchObject({
        status: 412,
        code: "PreconditionFailed",
      });
    }
    expect((await request(path, { headers: { "If-None-Match": bare } })).status).toBe(304);
    expect((await request(path, { headers: { "If-None-Match": `W/${etag}` } })).status).toBe(304);
    expect((await request(path, { headers: { "If-None-Match": bare.toUpperCase() } })).status).toBe(200);
  });

  it("answers methods it does not serve with an OSS error, not a 5xx", async () => {
    const res = await request(`${ORIGIN}/demo/x.jpg`, { method: "PATCH", body: "x" });
    expect(await ossError(res)).toMatchObject({ status: 405, code: "MethodNotAllowed" });
  });

  it("answers bucket-level APIs it lacks with NotImplemented, and anonymous listing with AccessDenied", async () => {
    const res = await request("/demo/?acl", await signedV1("GET", "/demo/?acl"));
    expect(await ossError(res)).toMatchObject({ status: 501, code: "NotImplemented" });
    expect(await ossError(await request("/demo/"))).toMatchObject({ status: 403, code: "AccessDenied" });
  });
});

const COPY_RESULT =
  /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<CopyObjectResult>\n {2}<ETag>("[0-9a-f]{32}")<\/ETag>\n {2}<LastModified>(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)<\/LastModified>\n<\/CopyObjectResult>\n?$/;

/** `x-oss-copy-source` as ali-oss and oss2 write it: `/<bucket>/<encodeURIComponent(key)>`. */
const copySource = (key: string, bucket = "demo") => `/${bucket}/${encodeURIComponent(key)}`;

/** A source object in `demo` with HTTP metadata and user metadata. */
async function sourceObject(name = "source.txt", bytes: Uint8Array = ORIGINAL): Promise<string> {
  const key = uniqueKey(name);
  await env.DEMO.put(key, bytes, {
    httpMetadata: { contentType: "text/plain", cacheControl: "max-age=60", contentDisposition: "inline" },
    customMetadata: { origin: "source", colour: "blue" },
  });
  return key;
}

describe("keys that end like a style (<key>!<style>)", () => {
  it("signs, writes and deletes the whole name; only reads take the suffix as a style", async () => {
    const key = uniqueKey("photo.jpg!v2");
    const put = await signedPut(key, { "Content-Type": "text/plain" }, TEXT);
    expect(put.status, await put.text()).toBe(200);
    expect(await stored(key)).toBe("0123456789abcdefghij");
    expect(await stored(key.slice(0, -"!v2".length))).toBeNull();
    // A signed read of the whole name is checked against the whole name, then read as a style.
    const read = await request(`/demo/${encodePath(key)}`, await signedV1("GET", `/demo/${key}`));
    expect(await ossError(read)).toMatchObject({ status: 404, code: "NoSuchStyle" });
    const removed = await request(
      `/demo/${encodePath(key)}`,
      await signedV1("DELETE", `/demo/${key}`, { method: "DELETE" }),
    );
    expect(removed.status).toBe(204);
    expect(await stored(key)).toBeNull();
  });
});

describe("GetObjectMeta (?objectMeta)", () => {
  it("HEAD: 200 with Content-Length, ETag, Last-Modified and x-oss-last-access-time only, no body", async () => {
    const key = await sourceObject("meta.txt");
    const res = await request(`/demo/${encodePath(key)}?objectMeta`, { method: "HEAD" });
    expect(res.status).toBe(200);
    const object = (await env.DEMO.head(key)) as R2Object;
    expect(res.headers.get("Content-Length")).toBe(String(object.size));
    expect(res.headers.get("ETag")).toBe(object.httpEtag);
    expect(res.headers.get("Last-Modified")).toBe(object.uploaded.toUTCString());
    expect(res.headers.get("x-oss-last-access-time")).toBe(object.uploaded.toUTCString());
    expect(res.headers.get("x-oss-meta-origin")).toBeNull();
    expect(res.headers.get("Cache-Control")).toBeNull();
    expect(await res.text()).toBe("");
  });

  it("GET is answered the same way, without a body", async () => {
    const key = await sourceObject("meta-get.txt");
    const res = await request(`/demo/${encodePath(key)}?objectMeta`);
    expect(res.status).toBe(200);
    expect(res.headers.get("ETag")).toBe((await env.DEMO.head(key))?.httpEtag);
    expect(res.headers.get("x-oss-last-access-time")).toBe(res.headers.get("Last-Modified"));
    expect(await res.text()).toBe("");
  });

  it("a missing key is 404 NoSuchKey: in x-oss-err for HEAD, in the body for GET", async () => {
    const path = `/demo/${uniqueKey("missing.txt")}?objectMeta`;
    const head = await request(path, { method: "HEAD" });
    expect(head.status).toBe(404);
    expect(atob(head.headers.get("x-oss-err") ?? "")).toContain("<Code>NoSuchKey</Code>");
    expect(await ossError(await request(path))).toMatchObject({ status: 404, code: "NoSuchKey" });
  });

  it("follows the rules of HEAD: private buckets need a signature, source protection refuses anonymous", async () => {
    const key = uniqueKey("private-meta.txt");
    await env.DEMO_PRIVATE.put(key, TEXT);
    const path = `/demo-private/${encodePath(key)}?objectMeta`;
    const anonymous = await request(path, { method: "HEAD" });
    expect(anonymous.status).toBe(403);
    expect(atob(anonymous.headers.get("x-oss-err") ?? "")).toContain("<Code>AccessDenied</Code>");
    const signed = await request(path, await signedV1("HEAD", `/demo-private/${key}?objectMeta`));
    expect(signed.status).toBe(200);
    expect(signed.headers.get("Content-Length")).toBe("20");

    const publicKey = await sourceObject("protected.txt");
    const vars = env as unknown as WorkerEnv;
    const protectedEnv = {
      ...vars,
      BUCKETS: { ...vars.BUCKETS, demo: { ...vars.BUCKETS.demo, source_protection: true } },
    };
    for (const suffix of ["?objectMeta", "!thumb?objectMeta", "?objectMeta&x-oss-process=style/thumb"]) {
      const context = createExecutionContext();
      const res = await worker.fetch(
        new Request(new URL(`/demo/${encodePath(publicKey)}${suffix}`, ORIGIN), { method: "HEAD" }),
        protectedEnv,
        context,
      );
      await waitOnExecutionContext(context);
      expect(res.status, suffix).toBe(403);
    }
  });
});

describe("CopyObject", () => {
  it("copies within a bucket: OSS's XML and ETag header, the bytes, HTTP metadata and x-oss-meta-* (COPY)", async () => {
    const source = await sourceObject();
    const target = uniqueKey("copy.txt");
    const res = await signedPut(target, { "x-oss-copy-source": copySource(source) });
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("application/xml");
    const match = COPY_RESULT.exec(await res.text());
    expect(match, "the CopyObjectResult XML").not.toBeNull();
    const [, etag, lastModified] = match as RegExpExecArray;
    expect(res.headers.get("ETag")).toBe(etag);

    const copied = await env.DEMO.get(target);
    expect(copied).not.toBeNull();
    expect(new TextDecoder().decode(await copied?.arrayBuffer())).toBe("the original bytes");
    expect(copied?.httpEtag).toBe(etag);
    expect(etag).toBe((await env.DEMO.head(source))?.httpEtag);
    expect(copied?.uploaded.toISOString()).toBe(lastModified);
    expect(copied?.httpMetadata).toMatchObject({
      contentType: "text/plain",
      cacheControl: "max-age=60",
      contentDisposition: "inline",
    });
    expect(copied?.customMetadata).toEqual({ origin: "source", colour: "blue" });

    // And as a client reads it back.
    const got = await request(`/demo/${encodePath(target)}`);
    expect(got.headers.get("x-oss-meta-origin")).toBe("source");
    expect(await got.text()).toBe("the original bytes");
  });

  it("REPLACE takes the request's Content-Type and x-oss-meta-*, dropping the source's", async () => {
    const source = await sourceObject();
    const target = uniqueKey("replaced.txt");
    const res = await signedPut(target, {
      "x-oss-copy-source": copySource(source),
      "x-oss-metadata-directive": "REPLACE",
      "Content-Type": "application/json",
      "x-oss-meta-origin": "request",
    });
    expect(res.status, await res.text()).toBe(200);
    const copied = await env.DEMO.head(target);
    expect(copied?.httpMetadata?.contentType).toBe("application/json");
    expect(copied?.httpMetadata?.cacheControl).toBeUndefined();
    expect(copied?.customMetadata).toEqual({ origin: "request" });
    expect(await stored(target)).toBe("the original bytes");
  });

  it("an unknown x-oss-metadata-directive is 400 InvalidArgument and writes nothing", async () => {
    const source = await sourceObject();
    const target = uniqueKey("never.txt");
    const res = await signedPut(target, {
      "x-oss-copy-source": copySource(source),
      "x-oss-metadata-directive": "MERGE",
    });
    expect(await ossError(res)).toMatchObject({ status: 400, code: "InvalidArgument" });
    expect(await env.DEMO.head(target)).toBeNull();
  });

  it("onto itself (oss2's update_object_meta) keeps the bytes and takes the new metadata", async () => {
    const key = await sourceObject("self.txt");
    const res = await signedPut(key, {
      "x-oss-copy-source": copySource(key),
      "x-oss-metadata-directive": "REPLACE",
      "Content-Type": "text/markdown",
      "x-oss-meta-edited": "yes",
    });
    expect(res.status, await res.text()).toBe(200);
    expect(await stored(key)).toBe("the original bytes");
    const object = await env.DEMO.head(key);
    expect(object?.httpMetadata?.contentType).toBe("text/markdown");
    expect(object?.customMetadata).toEqual({ edited: "yes" });

    // COPY onto itself changes nothing but the time.
    expect((await signedPut(key, { "x-oss-copy-source": copySource(key) })).status).toBe(200);
    expect(await stored(key)).toBe("the original bytes");
    expect((await env.DEMO.head(key))?.customMetadata).toEqual({ edited: "yes" });
  });

  it("copies between the configured buckets, both ways", async () => {
    const source = await sourceObject("cross.txt");
    const intoPrivate = uniqueKey("in-private.txt");
    const res = await signedPut(
      intoPrivate,
      { "x-oss-copy-source": copySource(source) },
      undefined,
      "demo-private",
    );
    expect(res.status, await res.text()).toBe(200);
    expect(await stored(intoPrivate, env.DEMO_PRIVATE)).toBe("the original bytes");
    expect(await env.DEMO.head(intoPrivate)).toBeNull();
    expect((await env.DEMO_PRIVATE.head(intoPrivate))?.customMetadata).toEqual({
      origin: "source",
      colour: "blue",
    });

    const back = uniqueKey("back.txt");
    const res2 = await signedPut(back, { "x-oss-copy-source": copySource(intoPrivate, "demo-private") });
    expect(res2.status, await res2.text()).toBe(200);
    expect(await stored(back)).toBe("the original bytes");
  });

  it("reads the source header with or without the leading slash, any UTF-8 key, + as a space (Go's SDK)", async () => {
    const source = await sourceObject("照片 目录/my photo+1 (2).txt");
    const forms = {
      "no leading slash": `demo/${encodeURIComponent(source)}`,
      "slashes unencoded": `/demo/${encodePath(source)}`,
      "url.QueryEscape": `/demo/${encodeURIComponent(source).replaceAll("%20", "+")}`,
    };
    for (const [form, header] of Object.entries(forms)) {
      const target = uniqueKey("copy.txt");
      const res = await signedPut(target, { "x-oss-copy-source": header });
      expect(res.status, `${form}: ${await res.text()}`).toBe(200);
      expect(await stored(target), form).toBe("the original bytes");
    }
  });

  it("copies an empty object", async () => {
    const source = await sourceObject("empty.txt", new Uint8Array(0));
    const target = uniqueKey("empty-copy.txt");
    expect((await signedPut(target, { "x-oss-copy-source": copySource(source) })).status).toBe(200);
    expect((await env.DEMO.head(target))?.size).toBe(0);
  });

  it("a missing source is 404 NoSuchKey and writes nothing; an existing target is left as it was", async () => {
    const target = uniqueKey("target.txt");
    const missing = copySource(uniqueKey("nope.txt"));
    expect(await ossError(await signedPut(target, { "x-oss-copy-source": missing }))).toMatchObject({
      status: 404,
      code: "NoSuchKey",
    });
    expect(await env.DEMO.head(target)).toBeNull();

    await put(target, TEXT);
    expect((await signedPut(target, { "x-oss-copy-source": missing })).status).toBe(404);
    expect(await stored(target)).toBe("0123456789abcdefghij");
  });

  it("a source bucket the service does not configure is 404 NoSuchBucket, nothing written", async () => {
    const source = await sourceObject();
    const target = uniqueKey("target.txt");
    for (const bucket of ["no-such-bucket", "oss-styles", "DEMO"]) {
      const res = await signedPut(target, { "x-oss-copy-source": copySource(source, bucket) });
      expect(await ossError(res), bucket).toMatchObject({ status: 404, code: "NoSuchBucket" });
    }
    expect(await env.DEMO.head(target)).toBeNull();
  });

  it("refuses a versionId (501), a malformed source (400), and anonymous copies (403), writing nothing", async () => {
    const source = await sourceObject();
    const target = uniqueKey("target.txt");
    const versioned = await signedPut(target, {
      "x-oss-copy-source": `${copySource(source)}?versionId=CAEQ1`,
    });
    expect(await ossError(versioned)).toMatchObject({ status: 501, code: "NotImplemented" });
    for (const header of ["/demo", "/demo/", "//key.txt", "/demo/bad%E0%A4%A.txt"]) {
      const res = await signedPut(target, { "x-oss-copy-source": header });
      expect(await ossError(res), header).toMatchObject({ status: 400 });
    }
    const anonymous = await request(`/demo/${encodePath(target)}`, {
      method: "PUT",
      headers: { "x-oss-copy-source": copySource(source) },
    });
    expect(await ossError(anonymous)).toMatchObject({ status: 403, code: "AccessDenied" });
    expect(await env.DEMO.head(target)).toBeNull();
  });

  it("x-oss-copy-source-if-match: a match copies (quoted or not), a mismatch is 412 PreconditionFailed", async () => {
    const source = await sourceObject();
    const etag = (await env.DEMO.head(source))?.httpEtag as string;
    for (const value of [etag, etag.replaceAll('"', "")]) {
      const target = uniqueKey("match.txt");
      const res = await signedPut(target, {
        "x-oss-copy-source": copySource(source),
        "x-oss-copy-source-if-match": value,
      });
      expect(res.status, value).toBe(200);
      expect(await stored(target)).toBe("the original bytes");
    }
    const target = uniqueKey("mismatch.txt");
    const res = await signedPut(target, {
      "x-oss-copy-source": copySource(source),
      "x-oss-copy-source-if-match": '"0123456789abcdef0123456789abcdef"',
    });
    expect(await ossError(res)).toMatchObject({ status: 412, code: "PreconditionFailed" });
    expect(await env.DEMO.head(target)).toBeNull();
  });

  it("x-oss-copy-source-if-none-match: a match is 304 (as OSS answers) and writes nothing", async () => {
    const source = await sourceObject();
    const etag = (await env.DEMO.head(source))?.httpEtag as string;
    const target = uniqueKey("none-match.txt");
    const res = await signedPut(target, {
      "x-oss-copy-source": copySource(source),
      "x-oss-copy-source-if-none-match": etag,
    });
    expect(res.status).toBe(304);
    expect(await env.DEMO.head(target)).toBeNull();
    const other = await signedPut(target, {
      "x-oss-copy-source": copySource(source),
      "x-oss-copy-source-if-none-match": '"0123456789abcdef0123456789abcdef"',
    });
    expect(other.status).toBe(200);
  });

  it("x-oss-copy-source-if-unmodified-since (412) and -if-modified-since (304)", async () => {
    const source = await sourceObject();
    const uploaded = (await env.DEMO.head(source))?.uploaded as Date;
    const before = new Date(uploaded.getTime() - 60_000).toUTCString();
    const after = new Date(uploaded.getTime() + 60_000).toUTCString();
    const copy = (target: string, name: string, date: string) =>
      signedPut(target, { "x-oss-copy-source": copySource(source), [`x-oss-copy-source-${name}`]: date });

    const unmodified = uniqueKey("unmodified.txt");
    expect(await ossError(await copy(unmodified, "if-unmodified-since", before))).toMatchObject({
      status: 412,
      code: "PreconditionFailed",
    });
    expect(await env.DEMO.head(unmodified)).toBeNull();
    expect((await copy(unmodified, "if-unmodified-since", after)).status).toBe(200);

    const modified = uniqueKey("modified.txt");
    expect((await copy(modified, "if-modified-since", after)).status).toBe(304);
    expect(await env.DEMO.head(modified)).toBeNull();
    expect((await copy(modified, "if-modified-since", before)).status).toBe(200);
  });

  it("x-oss-forbid-overwrite: true refuses an existing target (and a copy onto itself) with 409", async () => {
    const source = await sourceObject();
    const target = uniqueKey("kept.txt");
    await put(target, TEXT);
    const headers = { "x-oss-copy-source": copySource(source), "x-oss-forbid-overwrite": "true" };
    expect(await ossError(await signedPut(target, headers))).toMatchObject({
      status: 409,
      code: "FileAlreadyExists",
    });
    expect(await stored(target)).toBe("0123456789abcdefghij");

    const self = await signedPut(source, { ...headers, "x-oss-metadata-directive": "REPLACE" });
    expect(await ossError(self)).toMatchObject({ status: 409, code: "FileAlreadyExists" });
    expect((await env.DEMO.head(source))?.customMetadata).toEqual({ origin: "source", colour: "blue" });

    const fresh = uniqueKey("fresh.txt");
    expect((await signedPut(fresh, headers)).status).toBe(200);
    expect(await stored(fresh)).toBe("the original bytes");
  });

  it("tags: x-oss-tagging-directive Replace with tags is refused (501); the default Copy has none to copy", async () => {
    const source = await sourceObject();
    const target = uniqueKey("tagged.txt");
    const replace = await signedPut(target, {
      "x-oss-copy-source": copySource(source),
      "x-oss-tagging-directive": "Replace",
      "x-oss-tagging": "owner=me",
    });
    expect(await ossError(replace)).toMatchObject({ status: 501, code: "NotImplemented" });
    expect(await env.DEMO.head(target)).toBeNull();

    const copied = await signedPut(target, {
      "x-oss-copy-source": copySource(source),
      "x-oss-tagging": "owner=me",
    });
    expect(copied.status).toBe(200);
  });

  it("refuses a source over 1 GB (OSS's CopyObject limit) with EntityTooLarge, reading and writing nothing", async () => {
    let cancelled = false;
    let written = false;
    const huge = {
      key: "huge.bin",
      size: COPY_LIMIT_BYTES + 1,
      etag: "0123456789abcdef0123456789abcdef",
      httpEtag: '"0123456789abcdef0123456789abcdef"',
      uploaded: new Date(),
      body: new ReadableStream({
        cancel() {
          cancelled = true;
        },
      }),
    };
    const store = {
      get: async () => huge,
      head: async () => null,
      put: async () => {
        written = true;
        return null;
      },
    } as unknown as R2Bucket;
    const bucket: BucketConfig = {
      name: "demo",
      acl: "private",
      store,
      styleDelimiters: "!",
      sourceProtection: false,
      negotiateFormat: false,
      anonymousList: false,
    };
    const config = { buckets: new Map([["demo", bucket]]) } as unknown as ServiceConfig;
    const copy = new Request("http://127.0.0.1/demo/copy.bin", {
      method: "PUT",
      headers: { "x-oss-copy-source": "/demo/huge.bin" },
    });
    const error = await copyObject(config, bucket, "copy.bin", copy).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OssError);
    expect(error).toMatchObject({ code: "EntityTooLarge", status: 400 });
    expect(cancelled).toBe(true);
    expect(written).toBe(false);
  });
});

describe("writes this service does not implement", () => {
  // Each of these would make OSS do something this service cannot: refused, nothing written.
  const REFUSED: Record<string, Record<string, string>> = {
    "UploadPartCopy (x-oss-copy-source-range)": {
      "x-oss-copy-source": "/demo/some/source.txt",
      "x-oss-copy-source-range": "bytes=0-4",
    },
    "PutSymlink (x-oss-symlink-target)": { "x-oss-symlink-target": "some/target.txt" },
    "object tags (x-oss-tagging)": { "x-oss-tagging": "owner=me" },
    "upload callbacks (x-oss-callback)": { "x-oss-callback": btoa('{"callbackUrl":"http://example.test"}') },
    "x-oss-object-acl: private": { "x-oss-object-acl": "private" },
    "x-oss-object-acl: public-read": { "x-oss-object-acl": "public-read" },
    "x-oss-storage-class: IA": { "x-oss-storage-class": "IA" },
    "x-oss-storage-class: Archive": { "x-oss-storage-class": "Archive" },
    "x-oss-server-side-encryption: KMS": { "x-oss-server-side-encryption": "KMS" },
    "x-oss-server-side-encryption: SM4": { "x-oss-server-side-encryption": "SM4" },
    "x-oss-server-side-data-encryption": {
      "x-oss-server-side-encryption": "KMS",
      "x-oss-server-side-data-encryption": "SM4",
    },
    "x-oss-server-side-encryption-key-id": { "x-oss-server-side-encryption-key-id": "some-cmk" },
  };

  it.each(Object.entries(REFUSED))(
    "refuses a PutObject with %s: 501, nothing written",
    async (_, headers) => {
      const absent = uniqueKey("refused.txt");
      const refused = await signedPut(absent, headers, TEXT);
      expect(await ossError(refused)).toMatchObject({ status: 501, code: "NotImplemented" });
      expect(await env.DEMO.head(absent)).toBeNull();

      const existing = uniqueKey("kept.txt");
      await put(existing, ORIGINAL);
      expect(await ossError(await signedPut(existing, headers, TEXT))).toMatchObject({ status: 501 });
      expect(await stored(existing)).toBe("the original bytes");
    },
  );

  it("refuses a ProcessObject whose headers ask for an object ACL, saving nothing", async () => {
    const source = uniqueKey("source.txt");
    await put(source, TEXT);
    const target = uniqueKey("saved.jpg");
    const path = `/demo/${encodePath(source)}?x-oss-process`;
    const init = await signedV1("POST", `/demo/${source}?x-oss-process`, {
      headers: { "Content-Type": "text/plain", "x-oss-object-acl": "private" },
      body: `x-oss-process=image/resize,w_10|sys/saveas,o_${btoa(target).replaceAll("=", "")}`,
    });
    expect(await ossError(await request(path, init))).toMatchObject({ status: 501, code: "NotImplemented" });
    expect(await env.DEMO.head(target)).toBeNull();
  });

  it("accepts what the service does: object ACL default, Standard, AES256 (R2 encrypts at rest)", async () => {
    const key = uniqueKey("accepted.txt");
    const res = await signedPut(
      key,
      {
        "x-oss-object-acl": "default",
        "x-oss-storage-class": "Standard",
        "x-oss-server-side-encryption": "AES256",
      },
      TEXT,
    );
    expect(res.status, await res.text()).toBe(200);
    expect(await stored(key)).toBe("0123456789abcdefghij");
  });
});

describe("x-oss-forbid-overwrite", () => {
  it("PutObject: 409 FileAlreadyExists when the key exists, the object unchanged", async () => {
    const key = uniqueKey("kept.txt");
    await put(key, ORIGINAL);
    const refused = await signedPut(key, { "x-oss-forbid-overwrite": "true" }, TEXT);
    expect(await ossError(refused)).toMatchObject({ status: 409, code: "FileAlreadyExists" });
    expect(await stored(key)).toBe("the original bytes");
  });

  it("PutObject: writes a new key, and false (or no header) overwrites", async () => {
    const key = uniqueKey("new.txt");
    expect((await signedPut(key, { "x-oss-forbid-overwrite": "true" }, TEXT)).status).toBe(200);
    expect(await stored(key)).toBe("0123456789abcdefghij");
    expect((await signedPut(key, { "x-oss-forbid-overwrite": "false" }, ORIGINAL)).status).toBe(200);
    expect(await stored(key)).toBe("the original bytes");
  });
});

describe("every response carries Date and Server, as OSS's do", () => {
  function expectDate(res: Response, what: string): void {
    const date = res.headers.get("Date");
    expect(date, what).toMatch(
      /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/,
    );
    expect(Math.abs(Date.parse(date as string) - Date.now()), what).toBeLessThan(60_000);
    expect(res.headers.get("Server"), what).toBe("AliyunOSS");
  }

  it("on objects: 200, 206, 304, HEAD, errors (HEAD ones too), writes, copies and deletes", async () => {
    const path = await upload("dated.txt", TEXT, "text/plain");
    const etag = (await request(path, { method: "HEAD" })).headers.get("ETag") as string;
    const key = uniqueKey("dated-write.txt");
    const responses: Record<string, Response> = {
      "GET 200": await request(path),
      "GET 206": await request(path, { headers: { Range: "bytes=0-1" } }),
      "GET 304": await request(path, { headers: { "If-None-Match": etag } }),
      "HEAD 200": await request(path, { method: "HEAD" }),
      "GET 404": await request(`/demo/${uniqueKey("missing.txt")}`),
      "HEAD 404": await request(`/demo/${uniqueKey("missing.txt")}`, { method: "HEAD" }),
      "GET 403": await request(`/demo-private/${uniqueKey("private.txt")}`),
      "GET 501": await request("/demo/?acl", await signedV1("GET", "/demo/?acl")),
      "list 403": await request("/demo/"),
      "PUT 200": await signedPut(key, {}, TEXT),
      "PUT 501": await signedPut(key, { "x-oss-object-acl": "private" }, TEXT),
      "copy 200": await signedPut(uniqueKey("copy.txt"), { "x-oss-copy-source": copySource(key) }),
      "DELETE 204": await request(`/demo/${encodePath(key)}`, await signedV1("DELETE", `/demo/${key}`)),
    };
    for (const [what, res] of Object.entries(responses)) {
      expectDate(res, what);
      await res.arrayBuffer();
    }
  });

  it("on processed images, the style API and the playground", async () => {
    const path = await upload("dated.png", await encode.png(quadrants(8, 8)), "image/png");
    const processed = await process(path, "image/info");
    expect(processed.status).toBe(200);
    expectDate(processed, "processed");
    await processed.arrayBuffer();

    const styles = await request("/demo/?style", await signedV1("GET", "/demo/?style"));
    expect(styles.status).toBe(200);
    expectDate(styles, "style API");
    await styles.arrayBuffer();

    const context = createExecutionContext();
    const page = await worker.fetch(
      new Request(new URL("/_playground/", ORIGIN)),
      { ...env, PLAYGROUND: "on" },
      context,
    );
    await waitOnExecutionContext(context);
    expect(page.status).toBe(200);
    expectDate(page, "playground");
    await page.arrayBuffer();
  });
});

/**
 * A V4 header signature made the way the Go SDK v3 makes it (oss/auth.go): no x-oss-date, the time
 * only in Date, whose exact text is the string-to-sign's time line and whose UTC day is the
 * credential's. Written from the SDK's description, independently of src/auth.
 */
async function signedLikeGoSdkV4(
  method: string,
  bucket: string,
  key: string,
  {
    date = new Date(),
    day,
    headers: extra = {},
  }: { date?: Date; day?: string; headers?: Record<string, string> } = {},
): Promise<RequestInit> {
  const region = "cn-hangzhou";
  const headers = new Headers(extra);
  headers.set("Date", date.toUTCString());
  headers.set("x-oss-content-sha256", "UNSIGNED-PAYLOAD");
  const signed: [string, string][] = [];
  headers.forEach((value, name) => {
    const lower = name.toLowerCase();
    if (lower.startsWith("x-oss-") || lower === "content-type" || lower === "content-md5") {
      signed.push([lower, value.trim()]);
    }
  });
  signed.sort(([a], [b]) => (a < b ? -1 : 1));
  const canonical = [
    method,
    `/${bucket}/${key}`,
    "",
    signed.map(([name, value]) => `${name}:${value}\n`).join(""),
    "",
    "UNSIGNED-PAYLOAD",
  ].join("\n");
  const credentialDay = day ?? date.toISOString().slice(0, 10).replaceAll("-", "");
  const scope = `${credentialDay}/${region}/oss/aliyun_v4_request`;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonical)));
  const stringToSign = ["OSS4-HMAC-SHA256", headers.get("Date"), scope, hex(digest)].join("\n");
  let signingKey: Uint8Array = new TextEncoder().encode(`aliyun_v4${TEST_KEY.secret}`);
  for (const part of [credentialDay, region, "oss", "aliyun_v4_request"])
    signingKey = await hmac(signingKey, part);
  const signature = hex(await hmac(signingKey, stringToSign));
  headers.set("Authorization", `OSS4-HMAC-SHA256 Credential=${TEST_KEY.id}/${scope},Signature=${signature}`);
  return { method, headers };
}

const hex = (bytes: Uint8Array) => [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");

async function hmac(key: Uint8Array, message: string): Promise<Uint8Array> {
  const cryptoKey = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, new TextEncoder().encode(message)));
}

describe("V4 header signatures with the time in Date only (the Go SDK v3)", () => {
  it("reads and writes a private bucket", async () => {
    const key = uniqueKey("go-sdk.txt").replaceAll("/", "-");
    await env.DEMO_PRIVATE.put(key, TEXT);
    const got = await request(`/demo-private/${key}`, await signedLikeGoSdkV4("GET", "demo-private", key));
    expect(got.status, await got.clone().text()).toBe(200);
    expect(await got.text()).toBe("0123456789abcdefghij");

    const target = uniqueKey("go-sdk-put.txt").replaceAll("/", "-");
    const init = await signedLikeGoSdkV4("PUT", "demo-private", target, {
      headers: { "Content-Type": "text/plain", "x-oss-meta-sdk": "go" },
    });
    const put = await request(`/demo-private/${target}`, { ...init, body: ORIGINAL });
    expect(put.status, await put.text()).toBe(200);
    const stored = await env.DEMO_PRIVATE.head(target);
    expect(userMetadata(stored as R2Object)).toEqual({ sdk: "go" });
  });

  it("refuses a credential of another day, a Date 20 minutes off, a changed Date and a Date not in HTTP form", async () => {
    const key = uniqueKey("go-sdk-refused.txt").replaceAll("/", "-");
    await env.DEMO_PRIVATE.put(key, TEXT);
    const path = `/demo-private/${key}`;
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10).replaceAll("-", "");
    const otherDay = await request(
      path,
      await signedLikeGoSdkV4("GET", "demo-private", key, { day: yesterday }),
    );
    expect(await ossError(otherDay)).toMatchObject({ status: 403, code: "AccessDenied" });

    const skewed = await signedLikeGoSdkV4("GET", "demo-private", key, {
      date: new Date(Date.now() - 20 * 60_000),
    });
    expect(await ossError(await request(path, skewed))).toMatchObject({
      status: 403,
      code: "RequestTimeTooSkewed",
    });

    const changed = await signedLikeGoSdkV4("GET", "demo-private", key, {
      date: new Date(Date.now() - 60_000),
    });
    const changedHeaders = new Headers(changed.headers);
    changedHeaders.set("Date", new Date().toUTCString());
    expect(await ossError(await request(path, { ...changed, headers: changedHeaders }))).toMatchObject({
      status: 403,
      code: "SignatureDoesNotMatch",
    });

    const isoDate = new Headers((await signedLikeGoSdkV4("GET", "demo-private", key)).headers);
    isoDate.set("Date", new Date().toISOString());
    expect(await ossError(await request(path, { headers: isoDate }))).toMatchObject({
      status: 403,
      code: "AccessDenied",
    });
  });
});
