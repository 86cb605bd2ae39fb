import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { combineCrc64, crc64 } from "../src/crc64";
import { encode, ossError, process, put, quadrants, request, uniqueKey } from "./helpers";
import { encodePath, patternBytes, referenceCrc64, signed } from "./object-api";

const CRC = "x-oss-hash-crc64ecma";

describe("CRC-64/ECMA-182 (x-oss-hash-crc64ecma)", () => {
  it("the reference and the service agree on the check value of 123456789 and on combination", () => {
    const check = new TextEncoder().encode("123456789");
    expect(BigInt(referenceCrc64(check)).toString(16)).toBe("995dc9bbdf1939fa");
    expect(crc64(check).toString(16)).toBe("995dc9bbdf1939fa");
    const a = patternBytes(100_003, 1);
    const b = patternBytes(77_777, 2);
    const whole = new Uint8Array([...a, ...b]);
    expect(combineCrc64(crc64(a), crc64(b), b.length).toString()).toBe(referenceCrc64(whole));
    expect(crc64(new Uint8Array(0))).toBe(0n);
  });

  it("PutObject answers the CRC; GetObject, HeadObject and a ranged GET send it; the bytes agree", async () => {
    const key = uniqueKey("crc.bin");
    const body = patternBytes(300_001);
    const expected = referenceCrc64(body);
    const putResponse = await signed("PUT", "demo", key, {}, { body });
    expect(putResponse.status).toBe(200);
    expect(putResponse.headers.get(CRC)).toBe(expected);
    const get = await request(`/demo/${encodePath(key)}`);
    expect(get.headers.get(CRC)).toBe(expected);
    expect(referenceCrc64(new Uint8Array(await get.arrayBuffer()))).toBe(expected);
    const head = await request(`/demo/${encodePath(key)}`, { method: "HEAD" });
    expect(head.headers.get(CRC)).toBe(expected);
    const ranged = await request(`/demo/${encodePath(key)}`, { headers: { Range: "bytes=0-9" } });
    expect(ranged.status).toBe(206);
    await ranged.arrayBuffer();
    expect(ranged.headers.get(CRC)).toBe(expected);
    // This service's own metadata never shows as the user's.
    for (const [name] of head.headers) expect(name).not.toMatch(/^x-oss-meta-x-oss-internal/);
  });

  it("streams a large PutObject into R2 (CRC computed on the way) and keeps its CRC", async () => {
    const key = uniqueKey("large.bin");
    const body = patternBytes(6 * 1024 * 1024 + 7, 3);
    const expected = referenceCrc64(body);
    const putResponse = await signed("PUT", "demo", key, {}, { body });
    expect(putResponse.status).toBe(200);
    expect(putResponse.headers.get(CRC)).toBe(expected);
    const head = await request(`/demo/${encodePath(key)}`, { method: "HEAD" });
    expect(head.headers.get(CRC)).toBe(expected);
    expect(head.headers.get("Content-Length")).toBe(String(body.length));
    const stored = await env.DEMO.get(key);
    expect(referenceCrc64(new Uint8Array(await (stored as R2ObjectBody).arrayBuffer()))).toBe(expected);

    // Rewritten by another tool, the object is not the one the CRC was computed for: none is sent.
    await env.DEMO.put(key, new Uint8Array([1, 2, 3]), {
      customMetadata: (await env.DEMO.head(key))?.customMetadata,
    });
    const after = await request(`/demo/${encodePath(key)}`, { method: "HEAD" });
    expect(after.status).toBe(200);
    expect(after.headers.get(CRC)).toBeNull();
  });

  it("sends no CRC for objects written without one, nor on processed responses", async () => {
    const key = uniqueKey("plain.jpg");
    const jpeg = await encode.jpg(quadrants(64, 48));
    await put(key, jpeg, "image/jpeg");
    const plain = await request(`/demo/${encodePath(key)}`);
    expect(plain.status).toBe(200);
    expect(plain.headers.get(CRC)).toBeNull();

    const withCrc = uniqueKey("with-crc.jpg");
    expect((await signed("PUT", "demo", withCrc, {}, { body: jpeg })).headers.get(CRC)).toBe(
      referenceCrc64(jpeg),
    );
    const processed = await process(`/demo/${encodePath(withCrc)}`, "image/resize,w_16");
    expect(processed.status).toBe(200);
    await processed.arrayBuffer();
    expect(processed.headers.get(CRC)).toBeNull();
  });

  it("CopyObject keeps the source's CRC with the copy, COPY or REPLACE", async () => {
    const source = uniqueKey("source.bin");
    const body = patternBytes(1000, 5);
    await signed("PUT", "demo", source, {}, { body });
    for (const directive of ["COPY", "REPLACE"]) {
      const target = uniqueKey(`copy-${directive}.bin`);
      const copied = await signed(
        "PUT",
        "demo",
        target,
        {},
        {
          headers: {
            "x-oss-copy-source": `/demo/${encodeURIComponent(source)}`,
            "x-oss-metadata-directive": directive,
          },
        },
      );
      expect(copied.status).toBe(200);
      expect(copied.headers.get(CRC)).toBe(referenceCrc64(body));
      const head = await request(`/demo/${encodePath(target)}`, { method: "HEAD" });
      expect(head.headers.get(CRC)).toBe(referenceCrc64(body));
    }
  });

  it("refuses user metadata named like this service's own, writing nothing", async () => {
    const key = uniqueKey("reserved.bin");
    const response = await signed(
      "PUT",
      "demo",
      key,
      {},
      {
        body: new Uint8Array([120]),
        headers: { "x-oss-meta-x-oss-internal-crc64ecma": "1" },
      },
    );
    expect(await ossError(response)).toMatchObject({ status: 400, code: "InvalidArgument" });
    expect(await env.DEMO.head(key)).toBeNull();
  });
});
