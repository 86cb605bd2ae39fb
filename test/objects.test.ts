import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ORIGIN, ossError, put, request, signedV1, uniqueKey, upload } from "./helpers";

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

  it("answers bucket-level requests with NotImplemented", async () => {
    const res = await request("/demo/");
    expect(await ossError(res)).toMatchObject({ status: 501, code: "NotImplemented" });
  });
});

describe("CopyObject never loses data", () => {
  it("a copy onto itself (how oss2's update_object_meta works) keeps the bytes", async () => {
    const key = uniqueKey("self.txt");
    await put(key, ORIGINAL, "text/plain");
    await (await signedPut(key, { "x-oss-copy-source": `/demo/${encodeURIComponent(key)}` })).arrayBuffer();
    expect(await stored(key)).toBe("the original bytes");
  });

  it("a copy of a missing source writes nothing", async () => {
    const target = uniqueKey("target.txt");
    const res = await signedPut(target, {
      "x-oss-copy-source": `/demo/${encodeURIComponent(uniqueKey("nope"))}`,
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(await env.DEMO.head(target)).toBeNull();
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
