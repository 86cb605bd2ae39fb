import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { decoded, encode, ossError, process, quadrants, request, uniqueKey } from "./helpers";
import { blocks, encodePath, field, fields, patternBytes, referenceCrc64, signed } from "./object-api";

const CRC = "x-oss-hash-crc64ecma";
const MiB = 1024 * 1024;

async function initiate(key: string, headers: Record<string, string> = {}, bucket = "demo"): Promise<string> {
  const response = await signed("POST", bucket, key, { uploads: undefined }, { headers });
  const xml = await response.text();
  expect(response.status, xml).toBe(200);
  expect(field(xml, "Key")).toBe(key);
  expect(field(xml, "Bucket")).toBe(bucket);
  const uploadId = field(xml, "UploadId") ?? "";
  expect(uploadId).toMatch(/^[0-9A-F]{32}$/);
  return uploadId;
}

async function uploadPart(
  key: string,
  uploadId: string,
  partNumber: number,
  body: Uint8Array,
  bucket = "demo",
) {
  const response = await signed("PUT", bucket, key, { partNumber: String(partNumber), uploadId }, { body });
  expect(response.status, await response.clone().text()).toBe(200);
  expect(response.headers.get(CRC)).toBe(referenceCrc64(body));
  const etag = response.headers.get("ETag") ?? "";
  expect(etag).toMatch(/^".+"$/);
  return etag;
}

const completeXml = (parts: [number, string][]) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<CompleteMultipartUpload>\n${parts
    .map(([n, etag]) => `<Part><PartNumber>${n}</PartNumber><ETag>${etag}</ETag></Part>`)
    .join("\n")}\n</CompleteMultipartUpload>`;

const complete = (key: string, uploadId: string, parts: [number, string][], bucket = "demo") =>
  signed(
    "POST",
    bucket,
    key,
    { uploadId },
    { body: completeXml(parts), headers: { "Content-Type": "application/xml" } },
  );

/** What the OBJECT_STATE bucket still holds of an upload. */
async function stateOf(uploadId: string): Promise<string[]> {
  const listed = await env.OBJECT_STATE.list({ prefix: `uploads/demo/${uploadId}` });
  return listed.objects.map((object) => object.key);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

describe("multipart upload", () => {
  it("uploads parts in any order, completes them as OSS XML with the combined CRC, and the image processes", async () => {
    // A BMP is large without compression: 1800x2000x3 bytes, so two 5 MiB parts and a small last one.
    const bmp = await encode.bmp(quadrants(1800, 2000));
    expect(bmp.length).toBeGreaterThan(10 * MiB);
    const parts = [bmp.subarray(0, 5 * MiB), bmp.subarray(5 * MiB, 10 * MiB), bmp.subarray(10 * MiB)];
    const key = uniqueKey("multi part.bmp");
    const uploadId = await initiate(key, { "Content-Type": "image/bmp", "x-oss-meta-origin": "camera" });
    const etags: string[] = [];
    for (const n of [3, 1, 2]) etags[n] = await uploadPart(key, uploadId, n, parts[n - 1]);

    const response = await complete(
      key,
      uploadId,
      [1, 2, 3].map((n) => [n, etags[n]]),
    );
    const xml = await response.text();
    expect(response.status, xml).toBe(200);
    expect(field(xml, "Key")).toBe(key);
    expect(field(xml, "Bucket")).toBe("demo");
    expect(field(xml, "ETag")).toMatch(/^".+-3"$/);
    expect(field(xml, "Location")).toContain(encodePath(key));
    const crc = referenceCrc64(bmp);
    expect(response.headers.get(CRC)).toBe(crc);
    expect(response.headers.get("ETag")).toBe(field(xml, "ETag"));

    const head = await request(`/demo/${encodePath(key)}`, { method: "HEAD" });
    expect(head.headers.get(CRC)).toBe(crc);
    expect(head.headers.get("Content-Type")).toBe("image/bmp");
    expect(head.headers.get("x-oss-meta-origin")).toBe("camera");
    expect(head.headers.get("Content-Length")).toBe(String(bmp.length));
    const get = await request(`/demo/${encodePath(key)}`);
    const bytes = new Uint8Array(await get.arrayBuffer());
    expect(referenceCrc64(bytes)).toBe(crc);
    expect(get.headers.get(CRC)).toBe(crc);

    const thumb = await decoded(await process(`/demo/${encodePath(key)}`, "image/resize,w_90/format,png"));
    expect([thumb.format, thumb.width, thumb.height]).toEqual(["png", 90, 100]);

    const listed = await signed("GET", "demo", "", { prefix: key });
    expect(field(await listed.text(), "Type")).toBe("Multipart");
    expect(await stateOf(uploadId)).toEqual([]);
  });

  it("ListParts pages with max-parts and part-number-marker, with each part's LastModified, ETag, CRC and size", async () => {
    const key = uniqueKey("listed.bin");
    const uploadId = await initiate(key);
    const bodies = [1, 2, 3, 4, 5].map((n) => patternBytes(1000 + n, n));
    const etags: string[] = [];
    for (const n of [5, 2, 4, 1, 3]) etags[n] = await uploadPart(key, uploadId, n, bodies[n - 1]);

    const empty = await signed("GET", "demo", key, { uploadId, "part-number-marker": "5" });
    const emptyXml = await empty.text();
    expect(blocks(emptyXml, "Part")).toEqual([]);
    expect(field(emptyXml, "IsTruncated")).toBe("false");

    const seen: number[] = [];
    let marker = "0";
    for (let page = 0; page < 5; page++) {
      const response = await signed("GET", "demo", key, {
        uploadId,
        "max-parts": "2",
        "part-number-marker": marker,
      });
      const xml = await response.text();
      expect(response.status, xml).toBe(200);
      expect(field(xml, "UploadId")).toBe(uploadId);
      expect(field(xml, "Key")).toBe(key);
      expect(field(xml, "MaxParts")).toBe("2");
      expect(field(xml, "PartNumberMarker")).toBe(marker);
      for (const part of blocks(xml, "Part")) {
        const n = Number(field(part, "PartNumber"));
        seen.push(n);
        expect(field(part, "ETag")).toBe(etags[n]);
        expect(field(part, "Size")).toBe(String(bodies[n - 1].length));
        expect(field(part, "HashCrc64ecma")).toBe(referenceCrc64(bodies[n - 1]));
        expect(field(part, "LastModified")).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      }
      marker = field(xml, "NextPartNumberMarker") ?? "";
      expect(marker).toBe(String(seen.at(-1)));
      if (field(xml, "IsTruncated") !== "true") break;
    }
    expect(seen).toEqual([1, 2, 3, 4, 5]);

    // A part uploaded again replaces the first one.
    const again = patternBytes(999, 42);
    const etag = await uploadPart(key, uploadId, 2, again);
    const xml = await (await signed("GET", "demo", key, { uploadId })).text();
    const second = blocks(xml, "Part")[1];
    expect(field(second, "ETag")).toBe(etag);
    expect(field(second, "Size")).toBe("999");
    expect(fields(xml, "PartNumber")).toEqual(["1", "2", "3", "4", "5"]);
  });

  it("takes parts under R2's 5 MiB minimum (ali-oss's default is 1 MiB) and assembles them on Complete", async () => {
    const key = uniqueKey("small-parts.jpg");
    const jpeg = await encode.jpg(quadrants(640, 480));
    const size = Math.ceil(jpeg.length / 3);
    const parts = [jpeg.subarray(0, size), jpeg.subarray(size, 2 * size), jpeg.subarray(2 * size)];
    const uploadId = await initiate(key, { "Content-Type": "image/jpeg", "x-oss-meta-from": "small" });
    const etags: string[] = [];
    for (const n of [2, 3, 1]) etags[n] = await uploadPart(key, uploadId, n, parts[n - 1]);
    const listed = await (await signed("GET", "demo", key, { uploadId })).text();
    expect(fields(listed, "ETag")).toEqual([etags[1], etags[2], etags[3]]);

    const response = await complete(
      key,
      uploadId,
      [1, 2, 3].map((n) => [n, etags[n]]),
    );
    expect(response.status, await response.clone().text()).toBe(200);
    const crc = referenceCrc64(jpeg);
    expect(response.headers.get(CRC)).toBe(crc);
    const get = await request(`/demo/${encodePath(key)}`);
    expect(new Uint8Array(await get.arrayBuffer())).toEqual(jpeg);
    expect(get.headers.get(CRC)).toBe(crc);
    expect(get.headers.get("Content-Type")).toBe("image/jpeg");
    expect(get.headers.get("x-oss-meta-from")).toBe("small");
    expect(await stateOf(uploadId)).toEqual([]);
    const thumb = await decoded(await process(`/demo/${encodePath(key)}`, "image/resize,w_64"));
    expect([thumb.format, thumb.width, thumb.height]).toEqual(["jpg", 64, 48]);

    // One small part alone is an object too.
    const single = uniqueKey("single.bin");
    const singleId = await initiate(single);
    const only = patternBytes(12_345, 9);
    await uploadPart(single, singleId, 1, only);
    // x-oss-complete-all: yes completes with every part uploaded, no part list sent.
    const done = await signed(
      "POST",
      "demo",
      single,
      { uploadId: singleId },
      { headers: { "x-oss-complete-all": "yes" } },
    );
    expect(done.status, await done.clone().text()).toBe(200);
    expect(done.headers.get(CRC)).toBe(referenceCrc64(only));
    const stored = await env.DEMO.get(single);
    expect(new Uint8Array(await (stored as R2ObjectBody).arrayBuffer())).toEqual(only);
  });

  it("AbortMultipartUpload leaves nothing: no object, no parts, no records", async () => {
    const key = uniqueKey("aborted.bin");
    const uploadId = await initiate(key);
    await uploadPart(key, uploadId, 1, patternBytes(5 * MiB));
    await uploadPart(key, uploadId, 2, patternBytes(10));
    const abort = await signed("DELETE", "demo", key, { uploadId });
    expect(abort.status).toBe(204);
    expect(await stateOf(uploadId)).toEqual([]);
    expect(await env.DEMO.head(key)).toBeNull();
    for (const response of [
      await signed("GET", "demo", key, { uploadId }),
      await signed("PUT", "demo", key, { partNumber: "3", uploadId }, { body: new Uint8Array(4) }),
      await complete(key, uploadId, [[1, '"x"']]),
      await signed("DELETE", "demo", key, { uploadId }),
    ]) {
      expect(await ossError(response)).toMatchObject({ status: 404, code: "NoSuchUpload" });
    }
    expect(await env.DEMO.head(key)).toBeNull();
  });
});

describe("multipart errors write nothing", () => {
  it("refuses Complete with a wrong ETag, a missing part, parts out of order, bad XML, or R2's part rules", async () => {
    const key = uniqueKey("refused.bin");
    const uploadId = await initiate(key);
    const one = await uploadPart(key, uploadId, 1, patternBytes(5 * MiB, 1));
    const two = await uploadPart(key, uploadId, 2, patternBytes(100, 2));
    const cases: [Response, number, string][] = [
      [
        await complete(key, uploadId, [
          [1, '"0123"'],
          [2, two],
        ]),
        400,
        "InvalidPart",
      ],
      [
        await complete(key, uploadId, [
          [1, one],
          [3, two],
        ]),
        400,
        "InvalidPart",
      ],
      [
        await complete(key, uploadId, [
          [2, two],
          [1, one],
        ]),
        400,
        "InvalidPartOrder",
      ],
      [
        await complete(key, uploadId, [
          [2, two],
          [2, two],
        ]),
        400,
        "InvalidPartOrder",
      ],
      [await signed("POST", "demo", key, { uploadId }, { body: "<Complete" }), 400, "MalformedXML"],
      [await signed("POST", "demo", key, { uploadId }, { body: completeXml([]) }), 400, "MalformedXML"],
    ];
    for (const [response, status, code] of cases)
      expect(await ossError(response)).toMatchObject({ status, code });

    // A small part before a large one: neither R2 nor the staging can make that layout.
    const mixed = uniqueKey("mixed-parts.bin");
    const mixedId = await initiate(mixed);
    const a = await uploadPart(mixed, mixedId, 1, patternBytes(1000, 1));
    const b = await uploadPart(mixed, mixedId, 2, patternBytes(5 * MiB, 2));
    expect(
      await ossError(
        await complete(mixed, mixedId, [
          [1, a],
          [2, b],
        ]),
      ),
    ).toMatchObject({
      status: 400,
      code: "EntityTooSmall",
    });
    expect(await env.DEMO.head(mixed)).toBeNull();
    expect(await signed("DELETE", "demo", mixed, { uploadId: mixedId })).toHaveProperty("status", 204);

    expect(await env.DEMO.head(key)).toBeNull();
    // Still in progress after the refusals: a correct Complete succeeds.
    const done = await complete(key, uploadId, [
      [1, one],
      [2, two],
    ]);
    expect(done.status, await done.clone().text()).toBe(200);
    expect(done.headers.get(CRC)).toBe(
      referenceCrc64(concat(patternBytes(5 * MiB, 1), patternBytes(100, 2))),
    );
  });

  it("refuses unknown upload ids, upload ids of another key, bad part numbers, anonymous callers and bad digests", async () => {
    const key = uniqueKey("guarded.bin");
    const uploadId = await initiate(key);
    const body = new Uint8Array([1, 2, 3]);
    const cases: [Response, number, string][] = [
      [
        await signed("PUT", "demo", key, { partNumber: "1", uploadId: "0".repeat(32) }, { body }),
        404,
        "NoSuchUpload",
      ],
      [
        await signed("PUT", "demo", `${key}.other`, { partNumber: "1", uploadId }, { body }),
        404,
        "NoSuchUpload",
      ],
      [await signed("GET", "demo", key, { uploadId: "nonsense" }), 404, "NoSuchUpload"],
      [await signed("PUT", "demo", key, { partNumber: "0", uploadId }, { body }), 400, "InvalidArgument"],
      [await signed("PUT", "demo", key, { partNumber: "10001", uploadId }, { body }), 400, "InvalidArgument"],
      [await signed("PUT", "demo", key, { partNumber: "x", uploadId }, { body }), 400, "InvalidArgument"],
      [await signed("GET", "demo", key, { uploadId, "max-parts": "0" }), 400, "InvalidArgument"],
      [
        await request(`/demo/${encodePath(key)}?partNumber=1&uploadId=${uploadId}`, { method: "PUT", body }),
        403,
        "AccessDenied",
      ],
      [await request(`/demo/${encodePath(key)}?uploads`, { method: "POST" }), 403, "AccessDenied"],
      [
        await signed(
          "PUT",
          "demo",
          key,
          { partNumber: "1", uploadId },
          { body, headers: { "Content-MD5": "AAAAAAAAAAAAAAAAAAAAAA==" } },
        ),
        400,
        "InvalidDigest",
      ],
      [
        await signed(
          "PUT",
          "demo",
          key,
          { partNumber: "1", uploadId },
          { body, headers: { "x-oss-copy-source": "/demo/a" } },
        ),
        501,
        "NotImplemented",
      ],
      [
        await signed(
          "POST",
          "demo",
          key,
          { uploads: undefined },
          { headers: { "x-oss-forbid-overwrite": "true" } },
        ),
        501,
        "NotImplemented",
      ],
      [
        await signed(
          "POST",
          "demo",
          key,
          { uploads: undefined },
          { headers: { "x-oss-object-acl": "private" } },
        ),
        501,
        "NotImplemented",
      ],
      [await signed("HEAD", "demo", key, { uploadId }), 405, "MethodNotAllowed"],
    ];
    for (const [response, status, code] of cases) {
      expect(response.status).toBe(status);
      if (response.headers.get("x-oss-err") === null)
        expect(await ossError(response)).toMatchObject({ status, code });
    }
    const parts = await (await signed("GET", "demo", key, { uploadId })).text();
    expect(blocks(parts, "Part")).toEqual([]);
    expect(await env.DEMO.head(key)).toBeNull();
  });
});
