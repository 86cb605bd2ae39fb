// SDK compatibility (issue 4): the real `ali-oss` client, in Node, against the Worker running in
// `wrangler dev` (started by global-setup.ts), over HTTP. The server has two buckets: `demo`
// (public-read, the default bucket) and `demo-private` (private), and two key pairs (a rotation).
//
// ali-oss addresses the server in two ways, and both are tested:
// - IP endpoint (`endpoint: "http://127.0.0.1:<port>"`): ali-oss puts no bucket in the URL; the path
//   is `/<key>` and it sends `Host: <bucket>.<region>.aliyuncs.com` instead (createRequest.js). It
//   refuses to make V1 signed URLs (`signatureUrl`) for IP endpoints.
// - path-style (`endpoint: "http://localhost:<port>", sldEnable: true`): `/<bucket>/<key>`.
import { createHash, createHmac } from "node:crypto";
import http from "node:http";
import OSS from "ali-oss";
import { describe, expect, inject, test, vi } from "vitest";
import type { Client, ClientOptions as OssClientOptions, RawResponse } from "./ali-oss-types";
import type { Credential } from "./context";
import { describeImage, quadrantsJpeg } from "./images";

const { baseUrl, port, credentials, seeded } = inject("sdk");

/** Any region works; V4 signs with it (`cn-hangzhou`), IP endpoints put it in the Host header. */
const REGION = "oss-cn-hangzhou";
const PUBLIC = "demo";
const PRIVATE = "demo-private";

type Addressing = "ip" | "path";

interface ClientOptions {
  bucket?: string;
  addressing?: Addressing;
  /** `authorizationV4: true`: V4 header signatures instead of V1. */
  v4?: boolean;
  credential?: Credential;
}

function client({
  bucket = PRIVATE,
  addressing = "path",
  v4 = false,
  credential = credentials[0],
}: ClientOptions = {}): Client {
  const options: OssClientOptions = {
    accessKeyId: credential.accessKeyId,
    accessKeySecret: credential.accessKeySecret,
    bucket,
    region: REGION,
    secure: false,
    authorizationV4: v4,
    timeout: 60_000,
    ...(addressing === "ip"
      ? { endpoint: `http://127.0.0.1:${port}` }
      : { endpoint: `http://localhost:${port}`, sldEnable: true }),
  };
  return new OSS(options) as Client;
}

const WRONG_SECRET: Credential = {
  accessKeyId: credentials[0].accessKeyId,
  accessKeySecret: "not-the-secret",
};

let counter = 0;
/** A fresh key per call (the server's state is fresh per run, tests share it). */
function uniqueKey(name: string): string {
  counter++;
  return `sdk/${counter}/${name}`;
}

/** The upload of the object tests: 160x120, so `w_40` gives 40x30 and `w_80` 80x60. */
const photo = await quadrantsJpeg(160, 120);
const THUMB = "image/resize,w_40/format,png";
const THUMB_IMAGE = { format: "png", width: 40, height: 30 };

async function expectImage(bytes: Uint8Array, expected: { format: string; width: number; height: number }) {
  expect(await describeImage(bytes)).toEqual(expected);
}

interface OssFailure {
  status?: number;
  code?: string;
  message: string;
}

/** The error ali-oss throws for a request the server refused (`.status`, `.code` from the XML). */
async function failure(request: Promise<unknown>): Promise<OssFailure> {
  try {
    await request;
  } catch (error) {
    const { status, code, message } = error as OssFailure;
    return { status, code, message };
  }
  throw new Error("the request succeeded; an OSS error was expected");
}

interface PlainResponse {
  status: number;
  /** `<Code>` of an OSS XML error body. */
  code?: string;
  body: Buffer;
}

/** A plain HTTP request without any signature (or a URL that carries its own). */
async function plain(url: string, init?: RequestInit): Promise<PlainResponse> {
  const response = await fetch(url.startsWith("/") ? `${baseUrl}${url}` : url, init);
  const body = Buffer.from(await response.arrayBuffer());
  const code = /<Code>([^<]*)<\/Code>/.exec(body.toString("utf8"))?.[1];
  return { status: response.status, code, body };
}

/** A GET addressed the way ali-oss addresses an IP endpoint: path `/<key>`, bucket in the Host. */
function anonymousIpEndpointGet(key: string, bucket: string): Promise<{ status?: number; code?: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get(
      {
        host: "127.0.0.1",
        port,
        path: `/${encodePath(key)}`,
        headers: { Host: `${bucket}.${REGION}.aliyuncs.com` },
      },
      (response) => {
        let body = "";
        response.on("data", (chunk) => {
          body += chunk;
        });
        response.on("end", () =>
          resolve({ status: response.statusCode, code: /<Code>([^<]*)<\/Code>/.exec(body)?.[1] }),
        );
      },
    );
    request.on("error", reject);
  });
}

const encodePath = (key: string) => key.split("/").map(encodeURIComponent).join("/");

/** The URL urllib requested for an ali-oss call. */
const requestedUrl = (res: OSS.NormalSuccessResponse) => new URL((res as RawResponse).requestUrls[0]);

const header = (res: OSS.NormalSuccessResponse, name: string) =>
  (res.headers as Record<string, string | undefined>)[name];

// ---------------------------------------------------------------------------------------------------

describe("the harness", () => {
  test("an anonymous GET of the public bucket serves the seeded object", async () => {
    const response = await plain(`/${PUBLIC}/${seeded.key}`);
    expect(response.status).toBe(200);
    await expectImage(response.body, { format: "jpeg", width: seeded.width, height: seeded.height });
  });

  test("an anonymous GET of the public bucket with x-oss-process", async () => {
    const response = await plain(`/${PUBLIC}/${seeded.key}?x-oss-process=${THUMB}`);
    expect(response.status).toBe(200);
    await expectImage(response.body, THUMB_IMAGE);
  });
});

describe("anonymous requests", () => {
  test("a GET of a private object is refused with AccessDenied (ali-oss's unsigned object URL)", async () => {
    const url = client().generateObjectUrl(seeded.key, `${baseUrl}/${PRIVATE}/`);
    expect(await plain(url)).toMatchObject({ status: 403, code: "AccessDenied" });
  });

  test("a processed GET of a private object is refused with AccessDenied", async () => {
    expect(await plain(`/${PRIVATE}/${seeded.key}?x-oss-process=${THUMB}`)).toMatchObject({
      status: 403,
      code: "AccessDenied",
    });
  });

  test("a HEAD of a private object is refused with 403", async () => {
    expect((await plain(`/${PRIVATE}/${seeded.key}`, { method: "HEAD" })).status).toBe(403);
  });

  test("a GET of a private object addressed like an IP endpoint (bucket in Host) is refused", async () => {
    expect(await anonymousIpEndpointGet(seeded.key, PRIVATE)).toEqual({ status: 403, code: "AccessDenied" });
    // The same form reaches the public bucket, so the bucket really came from the Host header.
    expect((await anonymousIpEndpointGet(seeded.key, PUBLIC)).status).toBe(200);
  });

  test("public-read allows no anonymous PUT or DELETE", async () => {
    const key = uniqueKey("anonymous.jpg");
    const put = await plain(`/${PUBLIC}/${key}`, { method: "PUT", body: photo });
    expect(put).toMatchObject({ status: 403, code: "AccessDenied" });
    expect((await plain(`/${PUBLIC}/${key}`)).status).toBe(404);

    const victim = uniqueKey("victim.jpg");
    await client({ bucket: PUBLIC }).put(victim, photo);
    const del = await plain(`/${PUBLIC}/${victim}`, { method: "DELETE" });
    expect(del).toMatchObject({ status: 403, code: "AccessDenied" });
    expect((await plain(`/${PUBLIC}/${victim}`)).status).toBe(200);
  });
});

/** Header signatures (V4: `authorizationV4: true`) and addressing (path-style: `sldEnable: true`). */
const VARIANTS = [
  { name: "V1, IP endpoint", addressing: "ip", v4: false },
  { name: "V1, path-style", addressing: "path", v4: false },
  { name: "V4, IP endpoint", addressing: "ip", v4: true },
  { name: "V4, path-style", addressing: "path", v4: true },
] as const;

describe.each(VARIANTS)("object API, $name", ({ addressing, v4 }) => {
  test("put, get, get with process, head, delete on the private bucket", async () => {
    const oss = client({ addressing, v4 });
    const key = uniqueKey("photo.jpg");

    // (@types/ali-oss types user metadata as needing `uid` and `pid`; ali-oss takes any names.)
    const put = await oss.put(key, photo, { meta: { origin: "sdk-test" } as unknown as OSS.UserMeta });
    expect(put.res.status).toBe(200);

    const got = await oss.get(key);
    expect(got.res.status).toBe(200);
    expect(Buffer.compare(got.content, photo)).toBe(0);
    expect(header(got.res, "content-type")).toBe("image/jpeg");

    const processed = await oss.get(key, { process: THUMB });
    expect(processed.res.status).toBe(200);
    await expectImage(processed.content, THUMB_IMAGE);

    const head = await oss.head(key);
    expect(head.status).toBe(200);
    expect(head.meta).toEqual({ origin: "sdk-test" });
    expect(Number(header(head.res, "content-length"))).toBe(photo.length);

    const deleted = await oss.delete(key);
    expect(deleted.res.status).toBe(204);
    expect(await failure(oss.head(key))).toMatchObject({ status: 404, code: "NoSuchKey" });
    expect(await failure(oss.get(key))).toMatchObject({ status: 404, code: "NoSuchKey" });
  });

  test("keys with spaces, quotes, parentheses, *, +, % and non-ASCII", async () => {
    // V1 signs the raw key; V4 signs it URI-encoded with !'()* escaped too, while the URL path
    // leaves '()* as they are: the server must canonicalise the decoded key, not the raw path.
    const oss = client({ addressing, v4 });
    const key = uniqueKey("dir with space/it's (1) *+100%/图片 ü.jpg");
    expect((await oss.put(key, photo)).res.status).toBe(200);
    expect(Buffer.compare((await oss.get(key)).content, photo)).toBe(0);
    await expectImage((await oss.get(key, { process: THUMB })).content, THUMB_IMAGE);
    expect((await oss.head(key)).status).toBe(200);
    expect((await oss.delete(key)).res.status).toBe(204);
  });

  test("reads of the seeded object in the public bucket, signed", async () => {
    const oss = client({ bucket: PUBLIC, addressing, v4 });
    const seededImage = { format: "jpeg", width: seeded.width, height: seeded.height };
    await expectImage((await oss.get(seeded.key)).content, seededImage);
    await expectImage((await oss.get(seeded.key, { process: THUMB })).content, THUMB_IMAGE);
  });

  test("the second key pair of the rotation signs as well as the first", async () => {
    const oss = client({ addressing, v4, credential: credentials[1] });
    const key = uniqueKey("rotated.jpg");
    expect((await oss.put(key, photo)).res.status).toBe(200);
    await expectImage((await oss.get(key, { process: THUMB })).content, THUMB_IMAGE);
    expect((await oss.delete(key)).res.status).toBe(204);
  });
});

describe("signatureUrl (V1 signed URL)", () => {
  test("ali-oss refuses to sign URLs for an IP endpoint", () => {
    expect(() => client({ addressing: "ip" }).signatureUrl(seeded.key)).toThrow(/endpoint is IP/);
  });

  test("a signed GET of a private object", async () => {
    const url = client().signatureUrl(seeded.key, { expires: 600 });
    const response = await plain(url);
    expect(response.status).toBe(200);
    await expectImage(response.body, { format: "jpeg", width: seeded.width, height: seeded.height });
  });

  test("with process: x-oss-process is signed and applied", async () => {
    const url = client().signatureUrl(seeded.key, { expires: 600, process: THUMB });
    expect(new URL(url).searchParams.get("x-oss-process")).toBe(THUMB);
    const response = await plain(url);
    expect(response.status).toBe(200);
    await expectImage(response.body, THUMB_IMAGE);
  });

  test("a tampered process is SignatureDoesNotMatch", async () => {
    const url = client().signatureUrl(seeded.key, { expires: 600, process: THUMB });
    expect(url).toContain("w_40");
    expect(await plain(url.replace("w_40", "w_80"))).toMatchObject({
      status: 403,
      code: "SignatureDoesNotMatch",
    });
  });

  test("a tampered signature is SignatureDoesNotMatch", async () => {
    const url = new URL(client().signatureUrl(seeded.key, { expires: 600, process: THUMB }));
    const signature = url.searchParams.get("Signature") ?? "";
    url.searchParams.set("Signature", `${signature[0] === "A" ? "B" : "A"}${signature.slice(1)}`);
    expect(await plain(url.href)).toMatchObject({ status: 403, code: "SignatureDoesNotMatch" });
  });

  test("a URL replayed on another object or bucket is SignatureDoesNotMatch", async () => {
    const url = client().signatureUrl(seeded.key, { expires: 600, process: THUMB });
    const otherKey = url.replace(encodePath(seeded.key), encodePath(`${seeded.key}.copy`));
    const otherBucket = url.replace(`/${PRIVATE}/`, `/${PUBLIC}/`);
    for (const replay of [otherKey, otherBucket]) {
      expect(replay).not.toBe(url);
      expect(await plain(replay)).toMatchObject({ status: 403, code: "SignatureDoesNotMatch" });
    }
  });

  test("an expired URL is AccessDenied", async () => {
    const url = client().signatureUrl(seeded.key, { expires: -60, process: THUMB });
    expect(await plain(url)).toMatchObject({ status: 403, code: "AccessDenied" });
  });

  test("a URL signed with the second key pair", async () => {
    const url = client({ credential: credentials[1] }).signatureUrl(seeded.key, {
      expires: 600,
      process: THUMB,
    });
    const response = await plain(url);
    expect(response.status).toBe(200);
    await expectImage(response.body, THUMB_IMAGE);
  });
});

describe("signatureUrlV4 (V4 signed URL)", () => {
  const sign = (oss: Client, process = THUMB, expires = 600) =>
    oss.signatureUrlV4("GET", expires, { queries: { "x-oss-process": process } }, seeded.key);

  test("with process, path-style, private bucket", async () => {
    const url = await sign(client());
    expect(new URL(url).pathname).toBe(`/${PRIVATE}/${seeded.key}`);
    const response = await plain(url);
    expect(response.status).toBe(200);
    await expectImage(response.body, THUMB_IMAGE);
  });

  test("an IP-endpoint client signs a URL without the bucket: it reaches the default bucket", async () => {
    const url = await sign(client({ bucket: PUBLIC, addressing: "ip" }));
    expect(new URL(url).pathname).toBe(`/${seeded.key}`);
    const response = await plain(url);
    expect(response.status).toBe(200);
    await expectImage(response.body, THUMB_IMAGE);
  });

  test("a tampered process is SignatureDoesNotMatch", async () => {
    const url = await sign(client());
    expect(url).toContain("w_40");
    expect(await plain(url.replace("w_40", "w_80"))).toMatchObject({
      status: 403,
      code: "SignatureDoesNotMatch",
    });
  });

  test("a URL replayed on another object or bucket is SignatureDoesNotMatch", async () => {
    const url = await sign(client());
    const otherKey = url.replace(encodePath(seeded.key), encodePath(`${seeded.key}.copy`));
    const otherBucket = url.replace(`/${PRIVATE}/`, `/${PUBLIC}/`);
    for (const replay of [otherKey, otherBucket]) {
      expect(replay).not.toBe(url);
      expect(await plain(replay)).toMatchObject({ status: 403, code: "SignatureDoesNotMatch" });
    }
  });

  test("a tampered signature is SignatureDoesNotMatch", async () => {
    const url = new URL(await sign(client()));
    const signature = url.searchParams.get("x-oss-signature") ?? "";
    url.searchParams.set(
      "x-oss-signature",
      `${signature.slice(0, -1)}${signature.endsWith("0") ? "1" : "0"}`,
    );
    expect(await plain(url.href)).toMatchObject({ status: 403, code: "SignatureDoesNotMatch" });
  });

  test("an expired URL is AccessDenied", async () => {
    // Signed 10 minutes ago (within the 15-minute clock skew OSS allows), valid for 60 seconds.
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() - 10 * 60_000 });
    let url: string;
    try {
      url = await sign(client(), THUMB, 60);
    } finally {
      vi.useRealTimers();
    }
    expect(await plain(url)).toMatchObject({ status: 403, code: "AccessDenied" });
  });

  test("a URL signed with the second key pair", async () => {
    const response = await plain(await sign(client({ credential: credentials[1] })));
    expect(response.status).toBe(200);
    await expectImage(response.body, THUMB_IMAGE);
  });
});

/**
 * ali-oss's processObjectSave sets no success statuses, so it never throws for an HTTP error: it
 * resolves with the status, and the body (JSON, or OSS's XML error) is in `res.data`.
 */
async function processObjectSave(
  oss: Client,
  source: string,
  target: string,
  process: string,
  bucket?: string,
) {
  const { status, res } = await oss.processObjectSave(source, target, process, bucket);
  // One line, so that a failed assertion shows all of it.
  const text = res.data.toString("utf8").replace(/\s*\n\s*/g, " ");
  return { status, text, code: /<Code>([^<]*)<\/Code>/.exec(text)?.[1] };
}

describe("processObjectSave (ProcessObject, sys/saveas)", () => {
  const SAVE = "image/resize,w_80/format,webp";
  const SAVED_IMAGE = { format: "webp", width: 80, height: 60 };

  describe.each(VARIANTS)("$name", ({ addressing, v4 }) => {
    test("into the same bucket", async () => {
      const oss = client({ addressing, v4 });
      const target = uniqueKey("saved.webp");
      const result = await processObjectSave(oss, seeded.key, target, SAVE);
      expect(result.status, result.text).toBe(200);
      const body = JSON.parse(result.text);
      expect(body).toMatchObject({ bucket: PRIVATE, object: target, status: "OK" });

      const saved = await oss.get(target);
      expect(body.fileSize).toBe(saved.content.length);
      await expectImage(saved.content, SAVED_IMAGE);
    });

    test("into another bucket", async () => {
      const oss = client({ addressing, v4 });
      const target = uniqueKey("缩略图 saved.webp");
      const result = await processObjectSave(oss, seeded.key, target, SAVE, PUBLIC);
      expect(result.status, result.text).toBe(200);
      expect(JSON.parse(result.text)).toMatchObject({
        bucket: PUBLIC,
        object: target,
        status: "OK",
      });

      // The target bucket is public-read: the saved object is there for anyone, and only there.
      const response = await plain(`/${PUBLIC}/${encodePath(target)}`);
      expect(response.status).toBe(200);
      await expectImage(response.body, SAVED_IMAGE);
      expect(await failure(oss.head(target))).toMatchObject({ status: 404 });
    });
  });

  test("with a wrong secret nothing is saved", async () => {
    const target = uniqueKey("never.webp");
    const refused = await processObjectSave(client({ credential: WRONG_SECRET }), seeded.key, target, SAVE);
    expect(refused).toMatchObject({ status: 403, code: "SignatureDoesNotMatch" });
    expect(await failure(client().head(target))).toMatchObject({ status: 404 });
  });
});

describe("wrong credentials", () => {
  test.each([
    ["V1", false],
    ["V4", true],
  ])(
    "%s: a wrong secret is SignatureDoesNotMatch, on the private and the public bucket",
    async (_name, v4) => {
      for (const addressing of ["ip", "path"] as const) {
        for (const bucket of [PRIVATE, PUBLIC]) {
          const oss = client({ bucket, addressing, v4, credential: WRONG_SECRET });
          expect(await failure(oss.get(seeded.key)), `${bucket}, ${addressing}`).toMatchObject({
            status: 403,
            code: "SignatureDoesNotMatch",
          });
        }
      }
    },
  );

  test("a PUT with a wrong secret is refused and writes nothing", async () => {
    const key = uniqueKey("refused.jpg");
    const refused = await failure(client({ credential: WRONG_SECRET }).put(key, photo));
    expect(refused).toMatchObject({ status: 403, code: "SignatureDoesNotMatch" });
    expect(await failure(client().head(key))).toMatchObject({ status: 404, code: "NoSuchKey" });
  });

  test("a DELETE with a wrong secret is refused", async () => {
    const key = uniqueKey("kept.jpg");
    await client().put(key, photo);
    const refused = await failure(client({ credential: WRONG_SECRET, v4: true }).delete(key));
    expect(refused).toMatchObject({ status: 403, code: "SignatureDoesNotMatch" });
    expect((await client().head(key)).status).toBe(200);
  });

  test("signed URLs made with a wrong secret are SignatureDoesNotMatch", async () => {
    const oss = client({ credential: WRONG_SECRET });
    expect(await plain(oss.signatureUrl(seeded.key, { process: THUMB }))).toMatchObject({
      status: 403,
      code: "SignatureDoesNotMatch",
    });
    const v4 = await oss.signatureUrlV4("GET", 600, { queries: { "x-oss-process": THUMB } }, seeded.key);
    expect(await plain(v4)).toMatchObject({ status: 403, code: "SignatureDoesNotMatch" });
  });

  test("the key pairs are matched by position: the first id with the second secret fails", async () => {
    const mixed = {
      accessKeyId: credentials[0].accessKeyId,
      accessKeySecret: credentials[1].accessKeySecret,
    };
    expect(await failure(client({ credential: mixed }).get(seeded.key))).toMatchObject({
      status: 403,
      code: "SignatureDoesNotMatch",
    });
  });

  test("an unknown AccessKeyId is refused", async () => {
    const unknown = { accessKeyId: "no-such-key-id", accessKeySecret: credentials[0].accessKeySecret };
    expect((await failure(client({ credential: unknown }).get(seeded.key))).status).toBe(403);
  });
});

/** ali-oss's `meta` option: @types/ali-oss wants `uid` and `pid`, ali-oss takes any names. */
const userMeta = (meta: Record<string, string>) => meta as unknown as OSS.UserMeta;

describe.each(VARIANTS)("CopyObject, $name", ({ addressing, v4 }) => {
  test("copy within the bucket: the bytes, Content-Type and x-oss-meta-* of the source", async () => {
    const oss = client({ addressing, v4 });
    const source = uniqueKey("copy source.jpg");
    await oss.put(source, photo, { meta: userMeta({ origin: "sdk-copy" }) });
    const target = uniqueKey("copy target (1).jpg");
    const copied = await oss.copy(target, source);
    expect(copied.res.status).toBe(200);
    expect(copied.data.etag).toBe(header(copied.res, "etag"));

    const got = await oss.get(target);
    expect(Buffer.compare(got.content, photo)).toBe(0);
    expect(header(got.res, "content-type")).toBe("image/jpeg");
    expect(header(got.res, "etag")).toBe(copied.data.etag);
    expect((await oss.head(target)).meta).toEqual({ origin: "sdk-copy" });
  });
});

describe("CopyObject", () => {
  test("across buckets, both ways (the third argument names the source bucket)", async () => {
    const source = uniqueKey("cross.jpg");
    await client({ bucket: PUBLIC }).put(source, photo, { meta: userMeta({ origin: "public" }) });

    const intoPrivate = uniqueKey("from-public.jpg");
    expect((await client().copy(intoPrivate, source, PUBLIC)).res.status).toBe(200);
    expect(Buffer.compare((await client().get(intoPrivate)).content, photo)).toBe(0);
    expect((await client().head(intoPrivate)).meta).toEqual({ origin: "public" });
    // Private: not readable anonymously, unlike its source.
    expect((await plain(`/${PRIVATE}/${intoPrivate}`)).status).toBe(403);

    const intoPublic = uniqueKey("from-private.jpg");
    expect(
      (await client({ bucket: PUBLIC, v4: true }).copy(intoPublic, intoPrivate, PRIVATE)).res.status,
    ).toBe(200);
    expect(Buffer.compare((await plain(`/${PUBLIC}/${intoPublic}`)).body, photo)).toBe(0);
  });

  test("copy with meta (REPLACE) onto itself, and putMeta, keep the bytes", async () => {
    const oss = client();
    const key = uniqueKey("self.jpg");
    await oss.put(key, photo, { meta: userMeta({ version: "1" }) });

    expect((await oss.copy(key, key, { meta: userMeta({ version: "2" }) })).res.status).toBe(200);
    expect((await oss.head(key)).meta).toEqual({ version: "2" });
    expect(Buffer.compare((await oss.get(key)).content, photo)).toBe(0);

    expect((await oss.putMeta(key, userMeta({ version: "3" }), {})).res.status).toBe(200);
    expect((await oss.head(key)).meta).toEqual({ version: "3" });
    expect(Buffer.compare((await oss.get(key)).content, photo)).toBe(0);
  });

  test("a missing source is NoSuchKey and the target stays absent", async () => {
    const oss = client();
    const target = uniqueKey("never.jpg");
    expect(await failure(oss.copy(target, uniqueKey("missing.jpg")))).toMatchObject({
      status: 404,
      code: "NoSuchKey",
    });
    expect(await failure(oss.head(target))).toMatchObject({ status: 404, code: "NoSuchKey" });
  });

  test("conditions (If-Match: 412, If-None-Match: 304) and x-oss-forbid-overwrite (409) write nothing", async () => {
    const oss = client();
    const source = uniqueKey("conditional.jpg");
    const etag = header((await oss.put(source, photo)).res, "etag") as string;

    const mismatch = uniqueKey("mismatch.jpg");
    expect(
      await failure(oss.copy(mismatch, source, { headers: { "If-Match": `"${"0".repeat(32)}"` } })),
    ).toMatchObject({
      status: 412,
      code: "PreconditionFailed",
    });
    const notModified = uniqueKey("not-modified.jpg");
    expect((await oss.copy(notModified, source, { headers: { "If-None-Match": etag } })).res.status).toBe(
      304,
    );
    for (const key of [mismatch, notModified]) {
      expect(await failure(oss.head(key))).toMatchObject({ status: 404 });
    }
    expect(
      (await oss.copy(uniqueKey("match.jpg"), source, { headers: { "If-Match": etag } })).res.status,
    ).toBe(200);

    const existing = uniqueKey("existing.jpg");
    const other = await quadrantsJpeg(80, 60);
    await oss.put(existing, other);
    expect(
      await failure(oss.copy(existing, source, { headers: { "x-oss-forbid-overwrite": "true" } })),
    ).toMatchObject({ status: 409, code: "FileAlreadyExists" });
    expect(Buffer.compare((await oss.get(existing)).content, other)).toBe(0);
  });
});

describe.each(VARIANTS)("getObjectMeta (GetObjectMeta), $name", ({ addressing, v4 }) => {
  test("size, ETag, Last-Modified and x-oss-last-access-time; NoSuchKey for a missing key", async () => {
    const oss = client({ addressing, v4 });
    const key = uniqueKey("meta.jpg");
    const put = await oss.put(key, photo);
    const meta = await oss.getObjectMeta(key);
    expect(meta.status).toBe(200);
    expect(Number(header(meta.res, "content-length"))).toBe(photo.length);
    expect(header(meta.res, "etag")).toBe(header(put.res, "etag"));
    expect(Date.parse(header(meta.res, "last-modified") ?? "")).not.toBeNaN();
    expect(header(meta.res, "x-oss-last-access-time")).toBe(header(meta.res, "last-modified"));
    expect(await failure(oss.getObjectMeta(uniqueKey("missing.jpg")))).toMatchObject({
      status: 404,
      code: "NoSuchKey",
    });
  });
});

describe("HEAD errors (x-oss-err)", () => {
  test("ali-oss reads the code of a refused head from x-oss-err", async () => {
    // ali-oss names every bodiless 404 NoSuchKey by itself; for other statuses it decodes x-oss-err,
    // and without it reports an UnknownError with no code.
    expect(await failure(client({ credential: WRONG_SECRET }).head(seeded.key))).toMatchObject({
      status: 403,
      code: "SignatureDoesNotMatch",
    });
    expect(
      await failure(client({ credential: WRONG_SECRET, v4: true }).getObjectMeta(seeded.key)),
    ).toMatchObject({
      status: 403,
      code: "SignatureDoesNotMatch",
    });
  });

  test("a HEAD of a missing key: 404, no body, x-oss-err decodes to the NoSuchKey XML, and a Date", async () => {
    const response = await fetch(`${baseUrl}/${PUBLIC}/${uniqueKey("missing.jpg")}`, { method: "HEAD" });
    expect(response.status).toBe(404);
    const xml = Buffer.from(response.headers.get("x-oss-err") ?? "", "base64").toString("utf8");
    expect(xml).toContain("<Code>NoSuchKey</Code>");
    expect(xml).toContain(`<RequestId>${response.headers.get("x-oss-request-id")}</RequestId>`);
    expect(Date.parse(response.headers.get("date") ?? "")).not.toBeNaN();
    expect(await failure(client().head(uniqueKey("missing.jpg")))).toMatchObject({
      status: 404,
      code: "NoSuchKey",
    });
  });
});

describe("conditional reads", () => {
  test("get with If-Match: <unquoted ETag> (as oss2's resumable download sends it), whole and ranged", async () => {
    const oss = client();
    const key = uniqueKey("if-match.jpg");
    const put = await oss.put(key, photo);
    const unquoted = (header(put.res, "etag") ?? "").replaceAll('"', "");
    expect(unquoted).toMatch(/^[0-9a-fA-F]{32}$/);

    const whole = await oss.get(key, { headers: { "If-Match": unquoted } });
    expect(whole.res.status).toBe(200);
    expect(Buffer.compare(whole.content, photo)).toBe(0);

    const ranged = await oss.get(key, { headers: { "If-Match": unquoted, Range: "bytes=10-19" } });
    expect(ranged.res.status).toBe(206);
    expect(Buffer.compare(ranged.content, photo.subarray(10, 20))).toBe(0);

    expect(await failure(oss.get(key, { headers: { "If-Match": "0".repeat(32) } }))).toMatchObject({
      status: 412,
      code: "PreconditionFailed",
    });
  });
});

describe("writes the service does not implement, and x-oss-forbid-overwrite", () => {
  test("a put with x-oss-object-acl: private is refused with NotImplemented and writes nothing", async () => {
    // The public bucket: accepting `private` silently would leave the object readable by anyone.
    const oss = client({ bucket: PUBLIC });
    const key = uniqueKey("acl-private.jpg");
    const refused = await failure(oss.put(key, photo, { headers: { "x-oss-object-acl": "private" } }));
    expect(refused).toMatchObject({ status: 501, code: "NotImplemented" });
    expect(await plain(`/${PUBLIC}/${key}`)).toMatchObject({ status: 404, code: "NoSuchKey" });
  });

  test("a put with x-oss-forbid-overwrite: true onto an existing key is FileAlreadyExists", async () => {
    const oss = client({ v4: true });
    const key = uniqueKey("forbid-overwrite.jpg");
    const headers = { "x-oss-forbid-overwrite": "true" };
    expect((await oss.put(key, photo, { headers })).res.status).toBe(200);
    const other = await quadrantsJpeg(80, 60);
    expect(await failure(oss.put(key, other, { headers }))).toMatchObject({
      status: 409,
      code: "FileAlreadyExists",
    });
    expect(Buffer.compare((await oss.get(key)).content, photo)).toBe(0);
  });
});

/**
 * A V4 header signature as the Go SDK v3 makes it (oss/auth.go): the time only in Date, its exact
 * text signed as the time line, the credential day its UTC date; written here with node:crypto.
 */
function goSdkV4Headers(
  method: string,
  path: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  const region = "cn-hangzhou";
  const now = new Date();
  const headers: Record<string, string> = {
    ...extra,
    Date: now.toUTCString(),
    "x-oss-content-sha256": "UNSIGNED-PAYLOAD",
  };
  const signed = Object.entries(headers)
    .map(([name, value]) => [name.toLowerCase(), value.trim()])
    .filter(([name]) => name.startsWith("x-oss-") || name === "content-type" || name === "content-md5")
    .sort(([a], [b]) => (a < b ? -1 : 1));
  const canonical = [
    method,
    path,
    "",
    signed.map(([name, value]) => `${name}:${value}\n`).join(""),
    "",
    "UNSIGNED-PAYLOAD",
  ].join("\n");
  const day = now.toISOString().slice(0, 10).replaceAll("-", "");
  const scope = `${day}/${region}/oss/aliyun_v4_request`;
  const stringToSign = [
    "OSS4-HMAC-SHA256",
    headers.Date,
    scope,
    createHash("sha256").update(canonical).digest("hex"),
  ];
  let key: Buffer = Buffer.from(`aliyun_v4${credentials[0].accessKeySecret}`);
  for (const part of [day, region, "oss", "aliyun_v4_request"])
    key = createHmac("sha256", key).update(part).digest();
  const signature = createHmac("sha256", key).update(stringToSign.join("\n")).digest("hex");
  headers.Authorization = `OSS4-HMAC-SHA256 Credential=${credentials[0].accessKeyId}/${scope},Signature=${signature}`;
  return headers;
}

describe("V4 with the time in Date only (the Go SDK v3)", () => {
  test("a put and a get of the private bucket over HTTP", async () => {
    const path = `/${PRIVATE}/${uniqueKey("go-sdk.jpg")}`;
    const put = await plain(path, {
      method: "PUT",
      body: photo,
      headers: goSdkV4Headers("PUT", path, { "Content-Type": "image/jpeg" }),
    });
    expect(put.status, put.body.toString()).toBe(200);
    const got = await plain(path, { headers: goSdkV4Headers("GET", path) });
    expect(got.status).toBe(200);
    expect(Buffer.compare(got.body, photo)).toBe(0);
  });
});

describe("addressing", () => {
  test("IP endpoint: ali-oss requests /<key> (no bucket) and the object lands in the client's bucket", async () => {
    const key = uniqueKey("ip-endpoint.jpg");
    const put = await client({ addressing: "ip" }).put(key, photo);
    const url = requestedUrl(put.res);
    expect(url.host).toBe(`127.0.0.1:${port}`);
    expect(url.pathname).toBe(`/${key}`);

    // In demo-private (read back path-style), not in the default bucket the path alone would name.
    expect(Buffer.compare((await client().get(key)).content, photo)).toBe(0);
    expect(await plain(`/${PUBLIC}/${key}`)).toMatchObject({ status: 404, code: "NoSuchKey" });
  });

  test("IP endpoint with the default bucket", async () => {
    const key = uniqueKey("ip-endpoint-default.jpg");
    await client({ bucket: PUBLIC, addressing: "ip" }).put(key, photo);
    expect(Buffer.compare((await plain(`/${PUBLIC}/${key}`)).body, photo)).toBe(0);
    expect(Buffer.compare((await plain(`/${key}`)).body, photo)).toBe(0);
  });

  test("path-style (sldEnable): ali-oss requests /<bucket>/<key> on localhost", async () => {
    const key = uniqueKey("path-style.jpg");
    const put = await client().put(key, photo);
    const url = requestedUrl(put.res);
    expect(url.host).toBe(`localhost:${port}`);
    expect(url.pathname).toBe(`/${PRIVATE}/${key}`);
    expect(Buffer.compare((await client({ addressing: "ip" }).get(key)).content, photo)).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------------

/**
 * The style API (`/?style`, `/?style&styleName=<name>`) through ali-oss's signed low-level `request`:
 * ali-oss 6.23.0 has no style methods on its client. (`OSS.ImageClient` has putStyle/getStyle/…, but
 * for the retired Image Service: it passes `/?style&styleName=` as an object name, which ends up
 * percent-encoded in the path, and it needs an `imageHost`.)
 */
function styleApi(oss: Client, method: "PUT" | "GET" | "DELETE", styleName?: string, content?: string) {
  return oss.request({
    method,
    bucket: oss.options.bucket ?? undefined,
    subres: styleName === undefined ? { style: "" } : { style: "", styleName },
    content:
      content === undefined
        ? undefined
        : `<?xml version="1.0" encoding="UTF-8"?>\n<Style><Content>${content}</Content></Style>`,
    mime: content === undefined ? undefined : "application/xml",
    successStatuses: method === "DELETE" ? [204] : [200],
    xmlResponse: method === "GET",
  });
}

/** ListStyle's `<Style>` entries: xml2js gives one object for one entry, an array for more. */
function listedNames(data: { Style?: { Name: string } | { Name: string }[] } | undefined): string[] {
  const styles = data?.Style;
  if (!styles) return [];
  return (Array.isArray(styles) ? styles : [styles]).map((style) => style.Name);
}

describe("style API", () => {
  test.each(VARIANTS)("PutStyle, GetStyle, ListStyle, DeleteStyle, $name", async ({ addressing, v4 }) => {
    const oss = client({ addressing, v4 });
    const name = `sdk-${addressing}-${v4 ? "v4" : "v1"}`;

    expect((await styleApi(oss, "PUT", name, THUMB)).status).toBe(200);
    const style = await styleApi(oss, "GET", name);
    expect(style.data).toMatchObject({ Name: name, Content: THUMB });
    expect(listedNames((await styleApi(oss, "GET")).data)).toContain(name);

    // GetObject with x-oss-process=style/<name>.
    await expectImage((await oss.get(seeded.key, { process: `style/${name}` })).content, THUMB_IMAGE);

    expect((await styleApi(oss, "DELETE", name)).status).toBe(204);
    expect(await failure(styleApi(oss, "GET", name))).toMatchObject({ status: 404, code: "NoSuchStyle" });
    expect(listedNames((await styleApi(oss, "GET")).data)).not.toContain(name);
    expect(await failure(oss.get(seeded.key, { process: `style/${name}` }))).toMatchObject({
      status: 404,
      code: "NoSuchStyle",
    });
  });

  test("a style applies in signed URLs and in processObjectSave", async () => {
    const oss = client();
    const name = "sdk-signed";
    await styleApi(oss, "PUT", name, THUMB);

    const v1 = await plain(oss.signatureUrl(seeded.key, { expires: 600, process: `style/${name}` }));
    expect(v1.status).toBe(200);
    await expectImage(v1.body, THUMB_IMAGE);

    const v4 = await plain(
      await oss.signatureUrlV4("GET", 600, { queries: { "x-oss-process": `style/${name}` } }, seeded.key),
    );
    expect(v4.status).toBe(200);
    await expectImage(v4.body, THUMB_IMAGE);

    const target = uniqueKey("styled.png");
    const saved = await processObjectSave(oss, seeded.key, target, `style/${name}`);
    expect(saved.status, saved.text).toBe(200);
    await expectImage((await oss.get(target)).content, THUMB_IMAGE);

    await styleApi(oss, "DELETE", name);
  });

  test("a style of the public bucket serves anonymous `<key>!<name>` and style/<name> URLs", async () => {
    const oss = client({ bucket: PUBLIC, addressing: "ip" });
    const name = "sdk-public";
    await styleApi(oss, "PUT", name, THUMB);

    const delimited = await plain(`/${PUBLIC}/${seeded.key}!${name}`);
    expect(delimited.status).toBe(200);
    await expectImage(delimited.body, THUMB_IMAGE);
    const query = await plain(`/${PUBLIC}/${seeded.key}?x-oss-process=style/${name}`);
    expect(query.status).toBe(200);
    await expectImage(query.body, THUMB_IMAGE);

    await styleApi(oss, "DELETE", name);
  });

  test("an invalid style name is InvalidArgument", async () => {
    expect(await failure(styleApi(client(), "PUT", "bad*name", THUMB))).toMatchObject({
      status: 400,
      code: "InvalidArgument",
    });
  });

  test("anonymous PutStyle and a wrong secret are refused", async () => {
    const body = `<Style><Content>${THUMB}</Content></Style>`;
    expect(await plain(`/${PUBLIC}/?style&styleName=sdk-anonymous`, { method: "PUT", body })).toMatchObject({
      status: 403,
      code: "AccessDenied",
    });
    expect(
      await failure(
        styleApi(client({ bucket: PUBLIC, credential: WRONG_SECRET }), "PUT", "sdk-wrong", THUMB),
      ),
    ).toMatchObject({ status: 403, code: "SignatureDoesNotMatch" });
    expect(await failure(styleApi(client({ bucket: PUBLIC }), "GET", "sdk-anonymous"))).toMatchObject({
      status: 404,
      code: "NoSuchStyle",
    });
  });
});
