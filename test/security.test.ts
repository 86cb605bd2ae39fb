import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { sameSignature } from "../src/auth/crypto";
import authSource from "../src/auth/index.ts?raw";
import { encode, ossError, put, quadrants, request, signedUrlV1, signedV1 } from "./helpers";

const SECRET_KEY = "security/secret.jpg";
let secretBytes: Uint8Array;

beforeAll(async () => {
  secretBytes = await encode.jpg(quadrants(40, 30));
  await put(SECRET_KEY, secretBytes, "image/jpeg", env.DEMO_PRIVATE);
});

const sameBytes = (a: Uint8Array, b: Uint8Array) =>
  a.length === b.length && a.every((byte, i) => byte === b[i]);

describe("signature comparison", () => {
  it("compares in constant time: every signature check goes through sameSignature", () => {
    // timingSafeEqual (crypto.subtle) takes the same time wherever the first difference is; a
    // plain === would return at the first differing character and leak the expected signature.
    expect(sameSignature("c2lnbmF0dXJl", "c2lnbmF0dXJl")).toBe(true);
    expect(sameSignature("c2lnbmF0dXJl", "c2lnbmF0dXJm")).toBe(false);
    expect(sameSignature("c2lnbmF0dXJl", "c2lnbmF0dXJ")).toBe(false);
    expect(sameSignature("", "")).toBe(true);
    expect(authSource.match(/sameSignature\(/g)?.length).toBeGreaterThanOrEqual(3);
    expect(authSource).not.toMatch(/signature\w*\s*[!=]==|[!=]==\s*\w*signature/i);
  });
});

describe("signed URLs cannot be replayed elsewhere", () => {
  it("works where it was signed, and nowhere else", async () => {
    const process = "image/resize,w_20";
    const url = await signedUrlV1("demo-private", SECRET_KEY, process);
    expect((await request(url)).status).toBe(200);

    await put("security/other.jpg", secretBytes, "image/jpeg", env.DEMO_PRIVATE);
    await put(SECRET_KEY, secretBytes, "image/jpeg", env.DEMO);
    const replays = {
      "another key": url.replace("secret.jpg", "other.jpg"),
      "another bucket": url.replace("/demo-private/", "/demo/"),
      "another process": url.replace("w_20", "w_30"),
      "another access key id": url.replace("OSSAccessKeyId=test-key-id", "OSSAccessKeyId=rotated-key-id"),
    };
    for (const [what, replay] of Object.entries(replays)) {
      expect(replay, what).not.toBe(url);
      const error = await ossError(await request(replay));
      expect(error.status, what).toBe(403);
      expect(["SignatureDoesNotMatch", "AccessDenied"], what).toContain(error.code);
    }
  });
});

/** Signed ProcessObject of the secret object with the given saveas parameters. */
async function saveAs(target: string, bucket?: string) {
  const b64 = (text: string) => btoa(text).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
  const body = `x-oss-process=image/resize,w_10|sys/saveas,o_${b64(target)}${bucket ? `,b_${b64(bucket)}` : ""}`;
  const path = `/demo-private/${SECRET_KEY}?x-oss-process`;
  return request(path, await signedV1("POST", path, { body, headers: { "Content-Type": "text/plain" } }));
}

const ALL_STORES = () => [env.DEMO, env.DEMO_PRIVATE, env.STYLES, env.FONTS];

describe("sys/saveas writes only into configured buckets", () => {
  it("refuses R2 buckets the service uses that are not OSS buckets, and unknown ones", async () => {
    for (const bucket of ["oss-styles", "oss-fonts", "STYLES", "no-such-bucket"]) {
      const target = `security/escape-${bucket}.jpg`;
      expect(await ossError(await saveAs(target, bucket)), bucket).toMatchObject({
        status: 404,
        code: "NoSuchBucket",
      });
      for (const store of ALL_STORES()) expect(await store.head(target)).toBeNull();
    }
  });

  it("keeps path-like target names inside the target bucket, as plain names", async () => {
    const target = "../demo-private/security/overwritten.jpg";
    expect((await saveAs(target, "demo")).status).toBe(200);
    expect(await env.DEMO.head(target)).not.toBeNull();
    expect(await env.DEMO_PRIVATE.head("security/overwritten.jpg")).toBeNull();
  });

  it("refuses anonymous ProcessObject and target names with control characters", async () => {
    const path = `/demo/${SECRET_KEY}?x-oss-process`;
    await put(SECRET_KEY, secretBytes, "image/jpeg", env.DEMO);
    const anonymous = await request(path, {
      method: "POST",
      body: `x-oss-process=image/resize,w_10|sys/saveas,o_${btoa("security/anon.jpg")}`,
    });
    expect(await ossError(anonymous)).toMatchObject({ status: 403, code: "AccessDenied" });
    expect(await env.DEMO.head("security/anon.jpg")).toBeNull();
    expect(await ossError(await saveAs("security/line\nbreak.jpg"))).toMatchObject({
      code: "InvalidObjectName",
    });
  });
});

describe("keys cannot escape their bucket", () => {
  it("never serves a private object through dot segments, encoded slashes, NUL or control characters", async () => {
    const attempts = [
      `/demo/../demo-private/${SECRET_KEY}`,
      `/demo/%2e%2e/demo-private/${SECRET_KEY}`,
      `/demo/..%2Fdemo-private%2F${SECRET_KEY.replace("/", "%2F")}`,
      `/demo/%2E%2E%2F%2E%2E%2Fdemo-private/${SECRET_KEY}`,
      `/demo-private/${SECRET_KEY}%00`,
      `/demo-private/${SECRET_KEY}%00.png`,
      `/demo-private/security%0D%0A/secret.jpg`,
      `/./demo-private/./${SECRET_KEY}`,
      `/demo-private//${SECRET_KEY}`,
    ];
    for (const attempt of attempts) {
      for (const query of ["", "?x-oss-process=image/resize,w_10"]) {
        const response = await request(`${attempt}${query}`);
        const body = new Uint8Array(await response.arrayBuffer());
        expect(response.status, attempt).toBeGreaterThanOrEqual(400);
        expect(response.status, attempt).toBeLessThan(500);
        expect(sameBytes(body, secretBytes), attempt).toBe(false);
      }
    }
  });
});

describe("responses never echo input unescaped", () => {
  const MARK = "<x-INJECTED-'\">";
  const attempts: [string, RequestInit?][] = [
    [`/demo/${encodeURIComponent(MARK)}.jpg`],
    [`/demo/${encodeURIComponent(MARK)}.jpg?x-oss-process=image/${encodeURIComponent(MARK)}`],
    [`/demo/${SECRET_KEY}?x-oss-process=image/resize,w_${encodeURIComponent(MARK)}`],
    [`/demo/${SECRET_KEY}?x-oss-process=style/${encodeURIComponent(MARK)}`],
    [`/demo/${SECRET_KEY}`, { headers: { Range: `bytes=${MARK}`, "If-None-Match": MARK } }],
    [`/demo/${SECRET_KEY}`, { headers: { Authorization: `OSS ${MARK}:${MARK}` } }],
    [`/demo/${SECRET_KEY}?OSSAccessKeyId=${encodeURIComponent(MARK)}&Expires=1&Signature=x`],
  ];

  it("escapes input in XML bodies and leaves it out of headers", async () => {
    await put(SECRET_KEY, secretBytes, "image/jpeg", env.DEMO);
    for (const [path, init] of attempts) {
      const response = await request(path, init);
      const text = await response.text();
      for (const [name, value] of response.headers) {
        expect(value, `${path}: header ${name}`).not.toContain("INJECTED");
      }
      if (response.status >= 400) {
        expect(text, path).not.toContain(MARK);
        expect(text, path).not.toMatch(/<x-INJECTED/);
      }
    }
  });
});
