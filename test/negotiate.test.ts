import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { encode, quadrants, request, uniqueKey } from "./helpers";

// Format negotiation (Decision 22): the bucket demo-auto opts in (wrangler.toml negotiate_format).

const AVIF_WEBP = "image/avif,image/webp,image/apng,*/*;q=0.8";

async function putAuto(name: string, bytes: Uint8Array, contentType = "image/jpeg"): Promise<string> {
  const key = uniqueKey(name);
  await env.DEMO_AUTO.put(key, bytes, { httpMetadata: { contentType } });
  return key;
}

const get = (bucket: string, key: string, process: string, accept?: string) =>
  request(`/${bucket}/${key}?x-oss-process=${process}`, {
    headers: accept === undefined ? {} : { Accept: accept },
  });

/** The format of the bytes, by their magic numbers. */
function sniff(bytes: Uint8Array): string {
  const ascii = (from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to));
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return "jpeg";
  if (ascii(1, 4) === "PNG") return "png";
  if (ascii(0, 4) === "RIFF" && ascii(8, 12) === "WEBP") return "webp";
  if (ascii(4, 8) === "ftyp") return "avif";
  return "unknown";
}

async function answer(response: Response) {
  const bytes = new Uint8Array(await response.arrayBuffer());
  return {
    status: response.status,
    type: response.headers.get("Content-Type"),
    format: sniff(bytes),
    vary: response.headers.get("Vary"),
    cache: response.headers.get("X-Cache"),
  };
}

describe("format negotiation on a bucket that opts in", () => {
  it("answers AVIF, then WebP, then the OSS answer, by what Accept lists, with Vary: Accept", async () => {
    const key = await putAuto("photo.jpg", await encode.jpg(quadrants(320, 240)));
    const cases: [string | undefined, string][] = [
      [AVIF_WEBP, "avif"],
      ["image/webp,*/*", "webp"],
      ["IMAGE/WEBP;q=0.9, image/png", "webp"],
      ["image/avif;q=0, image/webp", "webp"],
      ["image/avif;q=0,image/webp;q=0", "jpeg"],
      ["image/*", "jpeg"],
      ["*/*", "jpeg"],
      ["", "jpeg"],
      [undefined, "jpeg"],
    ];
    for (const [accept, format] of cases) {
      const got = await answer(await get("demo-auto", key, "image/resize,w_100", accept));
      expect(got, `Accept: ${accept}`).toMatchObject({ status: 200, format, vary: "Accept" });
      expect(got.type).toBe(`image/${format}`);
    }
  });

  it("lets an explicit format win, with no Vary: the answer does not depend on Accept", async () => {
    const key = await putAuto("photo.jpg", await encode.jpg(quadrants(320, 240)));
    for (const accept of [AVIF_WEBP, "*/*"]) {
      const got = await answer(await get("demo-auto", key, "image/resize,w_100/format,png", accept));
      expect(got).toMatchObject({ status: 200, format: "png", vary: null });
    }
  });

  it("negotiates a style that names no format, and keeps the format a style names", async () => {
    const key = await putAuto("photo.jpg", await encode.jpg(quadrants(320, 240)));
    await env.STYLES.put("demo-auto/negotiated", "image/resize,w_80");
    await env.STYLES.put("demo-auto/as-png", "image/resize,w_80/format,png");
    expect(await answer(await get("demo-auto", key, "style/negotiated", AVIF_WEBP))).toMatchObject({
      format: "avif",
      vary: "Accept",
    });
    const viaDelimiter = await request(`/demo-auto/${key}!negotiated`, { headers: { Accept: "image/webp" } });
    expect(await answer(viaDelimiter)).toMatchObject({ format: "webp", vary: "Accept" });
    expect(await answer(await get("demo-auto", key, "style/as-png", AVIF_WEBP))).toMatchObject({
      format: "png",
      vary: null,
    });
  });

  it("never serves a client a format it did not accept, whatever the order of requests", async () => {
    for (const order of [
      [AVIF_WEBP, "image/webp", "*/*"],
      ["*/*", "image/webp", AVIF_WEBP],
      ["image/webp", AVIF_WEBP, "*/*"],
    ]) {
      const key = await putAuto("photo.jpg", await encode.jpg(quadrants(320, 240)));
      const expected: Record<string, string> = { [AVIF_WEBP]: "avif", "image/webp": "webp", "*/*": "jpeg" };
      // Each Accept twice, interleaved, so that the later ones can come from the cache.
      for (const accept of [...order, ...order, ...order]) {
        const got = await answer(await get("demo-auto", key, "image/resize,w_90", accept));
        expect(got, `${order.join(" | ")} -> ${accept}`).toMatchObject({
          format: expected[accept],
          vary: "Accept",
        });
      }
      // By now each variant was cached (the cache is written after the response, so wait for it).
      for (const accept of order) {
        let got = await answer(await get("demo-auto", key, "image/resize,w_90", accept));
        for (let i = 0; i < 20 && got.cache !== "HIT"; i++) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          got = await answer(await get("demo-auto", key, "image/resize,w_90", accept));
        }
        expect(got).toMatchObject({ cache: "HIT", format: expected[accept], vary: "Accept" });
      }
    }
  });

  it("keeps Vary on a 304", async () => {
    const key = await putAuto("photo.jpg", await encode.jpg(quadrants(320, 240)));
    const first = await get("demo-auto", key, "image/resize,w_70", "image/webp");
    await first.arrayBuffer();
    const etag = first.headers.get("ETag") as string;
    const again = await request(`/demo-auto/${key}?x-oss-process=image/resize,w_70`, {
      headers: { Accept: "image/webp", "If-None-Match": etag },
    });
    expect(again.status).toBe(304);
    expect(again.headers.get("Vary")).toBe("Accept");
    // The AVIF variant is another entity: the WebP one's ETag does not match it.
    const avif = await request(`/demo-auto/${key}?x-oss-process=image/resize,w_70`, {
      headers: { Accept: AVIF_WEBP, "If-None-Match": etag },
    });
    expect(avif.status).toBe(200);
    expect((await answer(avif)).format).toBe("avif");
  });

  it("falls back to the OSS answer when the accepted format cannot hold the result", async () => {
    // WebP stores at most 16,383 pixels a side: this 20,000-pixel-wide strip stays a JPEG.
    const key = await putAuto("strip.jpg", await encode.jpg(quadrants(20_000, 8)));
    const got = await answer(await get("demo-auto", key, "image/rotate,180", "image/webp"));
    expect(got).toMatchObject({ status: 200, format: "jpeg", vary: "Accept" });
  });

  it("answers info and average-hue as OSS does", async () => {
    const key = await putAuto("photo.jpg", await encode.jpg(quadrants(320, 240)));
    for (const process of ["image/info", "image/average-hue"]) {
      const response = await get("demo-auto", key, process, AVIF_WEBP);
      expect(response.headers.get("Content-Type"), process).toBe("application/json");
      expect(response.headers.get("Vary"), process).toBeNull();
      await response.arrayBuffer();
    }
  });
});

describe("buckets without the option", () => {
  it("ignore Accept, as OSS does", async () => {
    const key = uniqueKey("photo.jpg");
    await env.DEMO.put(key, await encode.jpg(quadrants(320, 240)));
    for (const accept of [AVIF_WEBP, "image/webp", undefined]) {
      const got = await answer(await get("demo", key, "image/resize,w_100", accept));
      expect(got, `Accept: ${accept}`).toMatchObject({ status: 200, format: "jpeg", vary: null });
    }
  });
});
