// Batch workflows through the real ali-oss client (issue 14): listing a prefix (V1 and V2, with
// delimiters and paging), multipartUpload of a 12 MB image that is then processed, the
// list → processObjectSave each → list flow, and the CRC-64 the server answers on the way.
import { randomBytes } from "node:crypto";
import OSS from "ali-oss";
import sharp from "sharp";
import { describe, expect, inject, test } from "vitest";
import { referenceCrc64 } from "../crc64-reference";
import type { Client, ClientOptions } from "./ali-oss-types";
import { describeImage, quadrantsJpeg } from "./images";

const { port, credentials } = inject("sdk");
const REGION = "oss-cn-hangzhou";
const MiB = 1024 * 1024;

function client({ bucket = "demo-private", ip = false, v4 = false } = {}): Client {
  const options: ClientOptions = {
    accessKeyId: credentials[0].accessKeyId,
    accessKeySecret: credentials[0].accessKeySecret,
    bucket,
    region: REGION,
    secure: false,
    authorizationV4: v4,
    timeout: 120_000,
    ...(ip
      ? { endpoint: `http://127.0.0.1:${port}` }
      : { endpoint: `http://localhost:${port}`, sldEnable: true }),
  };
  return new OSS(options) as Client;
}

/** A response header as ali-oss hands it on (urllib's headers, lower-case names). */
const header = (result: { res: OSS.NormalSuccessResponse }, name: string): string | undefined =>
  (result.res.headers as Record<string, string | undefined>)[name];

let counter = 0;
const freshPrefix = (name: string) => `batch/${Date.now().toString(36)}-${++counter}/${name}/`;

const NAMES = ["a.jpg", "b/1.jpg", "b/2.jpg", "c.jpg", "d/x/1.jpg", "e.jpg"];

async function putTree(oss: Client, prefix: string, names = NAMES): Promise<void> {
  for (const name of names) await oss.put(`${prefix}${name}`, Buffer.from(name));
}

/** A 12 MB PNG of noise (noise does not compress), 2048x2048. */
async function twelveMegabytePng(): Promise<Buffer> {
  const width = 2048;
  const pixels = randomBytes(width * width * 3);
  return sharp(pixels, { raw: { width, height: width, channels: 3 } })
    .png({ compressionLevel: 1 })
    .toBuffer();
}

describe.each([
  { label: "path-style, V1", ip: false, v4: false },
  { label: "IP endpoint, V4", ip: true, v4: true },
])("listing with ali-oss ($label)", ({ ip, v4 }) => {
  test("list: prefix, delimiter, and paging by max-keys and nextMarker to the end", async () => {
    const oss = client({ ip, v4 });
    const prefix = freshPrefix("list");
    await putTree(oss, prefix);

    const all = await oss.list({ prefix, "max-keys": 100 }, {});
    expect(all.objects.map((object) => object.name)).toEqual(NAMES.map((name) => `${prefix}${name}`));
    expect(all.isTruncated).toBe(false);
    const first = all.objects[0];
    expect(first.size).toBe(5);
    expect(first.lastModified).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(first.etag).toMatch(/^".+"$/);

    const grouped = await oss.list({ prefix, delimiter: "/", "max-keys": 100 }, {});
    expect(grouped.objects.map((object) => object.name)).toEqual(
      ["a.jpg", "c.jpg", "e.jpg"].map((n) => prefix + n),
    );
    expect(grouped.prefixes).toEqual([`${prefix}b/`, `${prefix}d/`]);

    // Pages of two, ending on the prefix b/: the next page must not give it again.
    const pages: string[][] = [];
    let marker: string | undefined;
    do {
      const page = await oss.list(
        { prefix, delimiter: "/", "max-keys": 2, ...(marker ? { marker } : {}) },
        {},
      );
      pages.push([...page.objects.map((object) => object.name), ...(page.prefixes ?? [])].sort());
      marker = page.isTruncated ? (page.nextMarker ?? undefined) : undefined;
      expect(pages.length).toBeLessThan(10);
    } while (marker);
    expect(pages.map((page) => page.map((name) => name.slice(prefix.length)))).toEqual([
      ["a.jpg", "b/"],
      ["c.jpg", "d/"],
      ["e.jpg"],
    ]);
  });

  test("listV2: continuation tokens, keyCount, start-after", async () => {
    const oss = client({ ip, v4 });
    const prefix = freshPrefix("list-v2");
    await putTree(oss, prefix);
    const seen: string[] = [];
    let token: string | undefined;
    for (let page = 0; page < 10; page++) {
      const result = await oss.listV2(
        { prefix, "max-keys": "2", ...(token ? { "continuation-token": token } : {}) },
        {},
      );
      expect(result.keyCount).toBe(result.objects.length);
      seen.push(...result.objects.map((object) => object.name));
      if (!result.isTruncated) break;
      token = result.nextContinuationToken ?? undefined;
      expect(token).toBeTruthy();
    }
    expect(seen).toEqual(NAMES.map((name) => `${prefix}${name}`));
    const after = await oss.listV2({ prefix, "start-after": `${prefix}d/x/1.jpg` }, {});
    expect(after.objects.map((object) => object.name)).toEqual([`${prefix}e.jpg`]);
  });
});

// Made, and its CRC computed (seconds of bitwise work), before any request: a pause between
// requests longer than the server's keep-alive timeout makes ali-oss reuse closed sockets.
const IMAGE = await twelveMegabytePng();
const IMAGE_CRC = referenceCrc64(IMAGE);

describe("multipart upload with ali-oss", () => {
  test.each([
    { label: "the SDK's default 1 MiB parts (staged, assembled on Complete)", partSize: undefined },
    { label: "5 MiB parts (R2's own multipart upload)", partSize: 5 * MiB },
  ])("multipartUpload of a 12 MB image with $label, then processed", async ({ partSize }) => {
    const png = IMAGE;
    expect(png.length).toBeGreaterThan(12 * 1000 * 1000);
    const oss = client();
    const key = `${freshPrefix("multipart")}big.png`;
    const progress: number[] = [];
    const result = await oss.multipartUpload(key, png, {
      ...(partSize ? { partSize } : {}),
      mime: "image/png",
      meta: { source: "camera" } as unknown as OSS.UserMeta,
      progress: (p: number) => {
        progress.push(p);
      },
    });
    expect(result.res.status).toBe(200);
    expect(progress.at(-1)).toBe(1);
    const crc = IMAGE_CRC;
    expect(header(result, "x-oss-hash-crc64ecma")).toBe(crc);

    const head = await oss.head(key);
    expect(header(head, "x-oss-hash-crc64ecma")).toBe(crc);
    expect(header(head, "content-length")).toBe(String(png.length));
    expect(header(head, "content-type")).toBe("image/png");
    expect(head.meta).toMatchObject({ source: "camera" });
    const got = await oss.get(key);
    expect(Buffer.compare(got.content, png)).toBe(0);
    // R2 assembled the 5 MiB parts itself; the 1 MiB ones were put together here as one object.
    const [listed] = (await oss.list({ prefix: key, "max-keys": 1 }, {})).objects;
    expect(listed.type).toBe(partSize ? "Multipart" : "Normal");
    expect(listed.size).toBe(png.length);

    const processed = await oss.get(key, { process: "image/resize,w_100/format,jpg" });
    expect(await describeImage(processed.content)).toEqual({ format: "jpeg", width: 100, height: 100 });
    expect(header(processed, "x-oss-hash-crc64ecma")).toBeUndefined();
  });

  test("abortMultipartUpload leaves no object and no upload", async () => {
    const oss = client();
    const key = `${freshPrefix("abort")}gone.bin`;
    const { uploadId } = await oss.initMultipartUpload(key);
    await oss.uploadPart(key, uploadId, 1, Buffer.alloc(200_000, 7), 0, 200_000);
    await oss.abortMultipartUpload(key, uploadId);
    await expect(oss.listParts(key, uploadId, {} as OSS.ListPartsQuery)).rejects.toMatchObject({
      status: 404,
      code: "NoSuchUpload",
    });
    await expect(oss.head(key)).rejects.toMatchObject({ status: 404 });
  });
});

describe("list → processObjectSave each → list", () => {
  test("makes a thumbnail of every listed image and lists them", async () => {
    const oss = client();
    const prefix = freshPrefix("thumbs");
    const names = ["one.jpg", "two.jpg", "three.jpg"];
    for (const [i, name] of names.entries()) {
      await oss.put(`${prefix}src/${name}`, await quadrantsJpeg(160 + 40 * i, 120));
    }
    const sources = await oss.list({ prefix: `${prefix}src/`, "max-keys": 100 }, {});
    expect(sources.objects).toHaveLength(names.length);
    for (const object of sources.objects) {
      const target = `${prefix}thumbs/${object.name.slice(`${prefix}src/`.length)}`;
      const saved = await oss.processObjectSave(object.name, target, "image/resize,w_40");
      expect(saved.status).toBe(200);
    }
    const thumbs = await oss.list({ prefix: `${prefix}thumbs/`, "max-keys": 100 }, {});
    expect(thumbs.objects.map((object) => object.name).sort()).toEqual(
      names.map((name) => `${prefix}thumbs/${name}`).sort(),
    );
    for (const object of thumbs.objects) {
      expect((await describeImage((await oss.get(object.name)).content)).width).toBe(40);
    }
    const everything = await oss.list({ prefix, delimiter: "/", "max-keys": 100 }, {});
    expect(everything.prefixes).toEqual([`${prefix}src/`, `${prefix}thumbs/`]);
  });
});

describe("CRC-64 through ali-oss", () => {
  test("put answers the CRC of the body; head and get send it", async () => {
    const oss = client();
    const key = `${freshPrefix("crc")}body.bin`;
    const body = Buffer.from("CRC-64/ECMA-182 as OSS computes it");
    const put = await oss.put(key, body);
    const crc = referenceCrc64(body);
    expect(header(put, "x-oss-hash-crc64ecma")).toBe(crc);
    expect(header(await oss.head(key), "x-oss-hash-crc64ecma")).toBe(crc);
    expect(header(await oss.get(key), "x-oss-hash-crc64ecma")).toBe(crc);
  });
});
