// AVIF output from the engine (wasm/src/codecs/avif_encode.c, libaom): files decoded by an
// independent decoder (@jsquash's libavif with dav1d), alpha kept or left out, quality, the memory
// estimate held against the engine's high-water mark at several sizes, the refusal of what cannot
// fit, and the isolate's WebAssembly memory afterwards.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { variantCacheKey } from "../src/cache";
import { ENGINE_MEMORY_BYTES, engineStatus, resetEnginePeak } from "../src/engine/instance";
import { readHeader } from "../src/image/header";
import type { Raster } from "../src/image/raster";
import { decodeAvifIndependently } from "./codecs";
import {
  decoded,
  encode,
  fixture,
  makeRaster,
  ORIGIN,
  ossError,
  planOf,
  process,
  psnr,
  put,
  request,
  serverTiming,
  signedV1,
  uniqueKey,
  upload,
} from "./helpers";

const MiB = 1024 * 1024;
const HEAVY = { timeout: 600_000 };
/** The budget the tests' Worker runs with (vitest.config.ts IMAGE_MEMORY_BUDGET_MB). */
const BUDGET = 88 * MiB;

const planFor = (bytes: Uint8Array, value: string) => planOf(bytes, value, BUDGET).estimatedBytes;

/** Mean absolute difference of the colour channels of two images of one size. */
function meanAbsoluteDifference(a: Raster, b: Raster): number {
  expect([a.width, a.height]).toEqual([b.width, b.height]);
  let total = 0;
  for (let i = 0; i < a.data.length; i += 4)
    for (let c = 0; c < 3; c++) total += Math.abs(a.data[i + c] - b.data[i + c]);
  return total / ((a.data.length / 4) * 3);
}

const ascii = (bytes: Uint8Array) => String.fromCharCode(...bytes);
const boxesOf = (bytes: Uint8Array) => ascii(bytes.subarray(0, Math.min(bytes.length, 2048)));

/** A gradient with a soft alpha ramp from left (clear) to right (opaque), odd-sized. */
const alphaRamp = () =>
  makeRaster(161, 91, (x, y) => [
    Math.round((x * 255) / 160),
    Math.round((y * 255) / 90),
    128,
    Math.round((x * 255) / 160),
  ]);

describe("AVIF output (libaom in the engine)", () => {
  it(
    "writes an AVIF that libavif decodes: size, Content-Type, the pixels",
    { timeout: 120_000 },
    async () => {
      const path = await upload("photo.jpg", fixture("photo.jpg"));
      const response = await process(path, "image/resize,w_1080/format,avif");
      expect(response.headers.get("Content-Type")).toBe("image/avif");
      const out = await decoded(response);
      expect([out.format, out.width, out.height]).toEqual(["avif", 1080, 810]);
      const boxes = boxesOf(out.bytes);
      for (const box of [
        "ftyp",
        "avif",
        "mif1",
        "miaf",
        "pict",
        "pitm",
        "iloc",
        "iinf",
        "av01",
        "ispe",
        "pixi",
        "av1C",
        "nclx",
        "ipma",
        "mdat",
      ])
        expect(boxes, box).toContain(box);
      expect(boxes).not.toContain("auxC");
      expect(readHeader(out.bytes).hasAlpha).toBe(false);
      // Against the same resize written losslessly: only the AVIF's own loss differs.
      const reference = await decoded(await process(path, "image/resize,w_1080/format,png"));
      const difference = meanAbsoluteDifference(out, reference);
      const quality = psnr(out, reference);
      console.log(
        `1080x810 q60: ${out.bytes.length} bytes, encode ${serverTiming(response, "encode")} ms, mean difference ${difference.toFixed(2)}, PSNR ${quality.toFixed(2)}`,
      );
      expect(difference).toBeLessThan(4);
      expect(quality).toBeGreaterThan(34);
      // The engine's own AVIF decoder (dav1d, its own chroma upsampling) reads it too.
      const again = await decoded(await process(await upload("again.avif", out.bytes), "image/format,png"));
      expect(psnr(again, out)).toBeGreaterThan(38);
    },
  );

  it("keeps alpha in an auxiliary item, and leaves it out when every pixel is opaque", async () => {
    const ramp = alphaRamp();
    const path = await upload("ramp.png", await encode.png(ramp));
    const out = await decoded(await process(path, "image/format,avif"));
    expect([out.width, out.height]).toEqual([161, 91]);
    expect(boxesOf(out.bytes)).toContain("auxC");
    expect(boxesOf(out.bytes)).toContain("auxl");
    expect(boxesOf(out.bytes)).toContain("urn:mpeg:mpegB:cicp:systems:auxiliary:alpha");
    expect(readHeader(out.bytes).hasAlpha).toBe(true);
    let alphaDifference = 0;
    for (let i = 3; i < out.data.length; i += 4) alphaDifference += Math.abs(out.data[i] - ramp.data[i]);
    alphaDifference /= out.data.length / 4;
    console.log(`alpha ramp: mean alpha difference ${alphaDifference.toFixed(2)}`);
    expect(alphaDifference).toBeLessThan(2);
    expect(out.data[(45 * 161 + 0) * 4 + 3]).toBeLessThan(8);
    expect(out.data[(45 * 161 + 160) * 4 + 3]).toBeGreaterThan(247);

    // A PNG with an alpha channel that is opaque everywhere: no alpha item.
    const opaque = makeRaster(64, 48, (x, y) => [x * 4, y * 5, 90, 255]);
    const opaquePath = await upload("opaque.png", await encode.png(opaque));
    const flat = await decoded(await process(opaquePath, "image/format,avif"));
    expect(boxesOf(flat.bytes)).not.toContain("auxC");
    expect(readHeader(flat.bytes).hasAlpha).toBe(false);
    expect(await decodeAvifIndependently(flat.bytes)).toMatchObject({ width: 64, height: 48 });
  });

  it("codes odd sizes and a single pixel", async () => {
    for (const [width, height] of [
      [1, 1],
      [3, 1],
      [1, 5],
      [17, 9],
    ]) {
      const path = await upload(
        "odd.png",
        await encode.png(makeRaster(width, height, () => [200, 40, 10, 255])),
      );
      const out = await decoded(await process(path, "image/format,avif"));
      expect([out.width, out.height]).toEqual([width, height]);
      const [r, g, b] = out.data;
      expect(Math.abs(r - 200) + Math.abs(g - 40) + Math.abs(b - 10), `${width}x${height}`).toBeLessThan(16);
    }
  });

  it(
    "follows the quality: fewer bytes at a lower one, lossless as quality 100",
    { timeout: 120_000 },
    async () => {
      const path = await upload("photo.jpg", fixture("photo.jpg"));
      const sizes: Record<string, number> = {};
      // Q is absolute (capped at the source JPEG's 90); q would scale the source's quality.
      for (const value of ["Q_30", "Q_60", "Q_90", "Q_lossless"]) {
        const out = await decoded(await process(path, `image/resize,w_640/format,avif/quality,${value}`));
        sizes[value] = out.bytes.length;
      }
      const defaulted = await decoded(await process(path, "image/resize,w_640/format,avif"));
      console.log(`640x480: ${JSON.stringify(sizes)}, default ${defaulted.bytes.length}`);
      expect(sizes.Q_30).toBeLessThan(sizes.Q_60);
      expect(sizes.Q_60).toBeLessThan(sizes.Q_90);
      expect(sizes.Q_90).toBeLessThan(sizes.Q_lossless);
      // The default quality is 60.
      expect(defaulted.bytes.length).toBe(sizes.Q_60);
    },
  );

  it(
    "holds its memory estimate against the engine's peak from 0.25 to 3.6 MP, and the ceiling",
    HEAVY,
    async () => {
      const photo = fixture("photo-12mp.jpg");
      const photoPath = await upload("phone.jpg", photo);
      // A large RGBA PNG, decoded by rows: the encoder's memory dominates.
      const alpha = await encode.png(
        makeRaster(1633, 923, (x, y) => [x & 255, y & 255, 128, Math.round((x * 255) / 1632)]),
      );
      const alphaPath = await upload("alpha.png", alpha);
      const cases: [Uint8Array, string, string][] = [
        [photo, photoPath, "image/resize,w_577/format,avif"],
        [photo, photoPath, "image/resize,w_1155/format,avif"],
        [photo, photoPath, "image/resize,w_1633/format,avif"],
        [photo, photoPath, "image/resize,w_2200/format,avif"],
        [photo, photoPath, "image/resize,w_1633/format,avif/quality,Q_90"],
        [photo, photoPath, "image/resize,w_1633/format,avif/quality,Q_lossless"],
        [alpha, alphaPath, "image/format,avif"],
      ];
      for (const [bytes, path, value] of cases) {
        resetEnginePeak();
        const response = await process(path, value);
        const ms = serverTiming(response, "encode");
        const wasm = serverTiming(response, "wasm");
        const image = await decoded(response);
        const estimate = planFor(bytes, value);
        const peak = engineStatus().peakBytes;
        const megapixels = (image.width * image.height) / 1e6;
        console.log(
          `${value} ${image.width}x${image.height} (${megapixels.toFixed(2)} MP): ${image.bytes.length} bytes, encode ${ms} ms, peak ${(peak / MiB).toFixed(1)} MiB (${(peak / MiB / megapixels).toFixed(2)} MiB/MP), estimate ${(estimate / MiB).toFixed(1)} MiB, wasm ${wasm} MiB`,
        );
        expect(peak, `${value}: peak ${peak} against estimate ${estimate}`).toBeLessThanOrEqual(estimate);
        expect(estimate, `${value}: estimate ${estimate} against peak ${peak}`).toBeLessThanOrEqual(
          peak * 1.35 + 2 * MiB,
        );
        expect(wasm).toBeLessThanOrEqual(96);
      }
      expect(engineStatus().memoryBytes).toBeLessThanOrEqual(ENGINE_MEMORY_BYTES);
    },
  );

  it(
    "refuses an AVIF too large to encode with ImageTooLarge, before decoding, caching nothing",
    HEAVY,
    async () => {
      const bytes = fixture("photo-12mp.jpg");
      const key = uniqueKey("phone.jpg");
      const object = await put(key, bytes);
      const value = "image/format,avif";
      const instances = engineStatus().instancesStarted;
      resetEnginePeak();
      const error = await ossError(await process(`/demo/${key}`, value));
      expect([error.status, error.code]).toEqual([400, "ImageTooLarge"]);
      expect(error.message).toContain("4032x3024 AVIF");
      console.log(error.message);
      // Refused by the plan: the engine decoded nothing (its peak stays where it was reset).
      expect(engineStatus().peakBytes).toBeLessThan(MiB);
      expect(engineStatus().instancesStarted).toBe(instances);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(
        await caches.default.match(variantCacheKey(ORIGIN, "demo", key, value, object.httpEtag)),
      ).toBeUndefined();
      // A ProcessObject writes nothing either.
      const target = uniqueKey("saved.avif");
      const init = await signedV1("POST", `/demo/${key}?x-oss-process`, {
        headers: { "Content-Type": "text/plain" },
        body: `x-oss-process=${value}|sys/saveas,o_${btoa(target).replaceAll("=", "")}`,
      });
      const saved = await ossError(await request(`/demo/${key}?x-oss-process`, init));
      expect([saved.status, saved.code]).toEqual([400, "ImageTooLarge"]);
      expect(await env.DEMO.head(target)).toBeNull();
      // The same photo made smaller first encodes.
      const smaller = await decoded(await process(`/demo/${key}`, "image/resize,w_1080/format,avif"));
      expect([smaller.width, smaller.height]).toEqual([1080, 810]);
    },
  );

  it("answers WebP instead on a negotiating bucket when the AVIF would not fit", HEAVY, async () => {
    const key = uniqueKey("phone.jpg");
    await env.DEMO_AUTO.put(key, fixture("photo-12mp.jpg"), { httpMetadata: { contentType: "image/jpeg" } });
    const accept = "image/avif,image/webp,*/*;q=0.8";
    const large = await request(`/demo-auto/${key}?x-oss-process=image/resize,w_4032`, {
      headers: { Accept: accept },
    });
    expect(large.headers.get("Content-Type")).toBe("image/webp");
    expect((await decoded(large)).width).toBe(4032);
    const small = await request(`/demo-auto/${key}?x-oss-process=image/resize,w_1080`, {
      headers: { Accept: accept },
    });
    expect(small.headers.get("Content-Type")).toBe("image/avif");
    expect((await decoded(small)).width).toBe(1080);
  });
});
