import { env, SELF } from "cloudflare:test";
import { expect, inject } from "vitest";
import { DEFAULT_MEMORY_BUDGET_MB } from "../src/config";
import { readHeader } from "../src/image/header";
import type { Raster, Rgba } from "../src/image/raster";
import { parseProcess } from "../src/process/parse";
import { type Plan, planProcess } from "../src/process/plan";
import type { Resources } from "../src/process/types";
import { decodeAny, encodeJpeg, encodeOther } from "./codecs";

export { decodeJpegIndependently } from "./codecs";

export const ORIGIN = "http://127.0.0.1:8787";

/** Standard Base64 of UTF-8 text; `urlSafe` gives the URL-safe alphabet without padding. */
export function base64(text: string, urlSafe = true): string {
  const standard = btoa(String.fromCharCode(...new TextEncoder().encode(text)));
  return urlSafe ? standard.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "") : standard;
}

export const RED: Rgba = [255, 0, 0, 255];
export const GREEN: Rgba = [0, 255, 0, 255];
export const BLUE: Rgba = [0, 0, 255, 255];
export const YELLOW: Rgba = [255, 255, 0, 255];

export function makeRaster(width: number, height: number, colourAt: (x: number, y: number) => Rgba): Raster {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set(colourAt(x, y), (y * width + x) * 4);
  }
  return { width, height, data };
}

/** Red | green over blue | yellow: every transform shows in which colour lands where. */
export function quadrants(width: number, height: number): Raster {
  return makeRaster(width, height, (x, y) =>
    y < height / 2 ? (x < width / 2 ? RED : GREEN) : x < width / 2 ? BLUE : YELLOW,
  );
}

export const encode = {
  jpg: async (image: Raster, quality = 90) => encodeJpeg(image, quality),
  ...encodeOther,
};

export function fixture(name: string): Uint8Array {
  return Uint8Array.from(atob(inject("fixtures")[name]), (c) => c.charCodeAt(0));
}

let counter = 0;
/** A fresh key per call, so tests never see each other's objects or cached variants. */
export function uniqueKey(name: string): string {
  counter++;
  return `t${Date.now().toString(36)}-${counter}/${name}`;
}

export async function put(key: string, bytes: Uint8Array, contentType?: string, bucket: R2Bucket = env.DEMO) {
  return bucket.put(key, bytes, { httpMetadata: contentType ? { contentType } : undefined });
}

/** Puts the bytes under a new key and returns the path-style URL path (`/demo/<key>`). */
export async function upload(name: string, bytes: Uint8Array, contentType?: string): Promise<string> {
  const key = uniqueKey(name);
  await put(key, bytes, contentType);
  return `/demo/${key.split("/").map(encodeURIComponent).join("/")}`;
}

export function request(path: string, init?: RequestInit): Promise<Response> {
  return SELF.fetch(new URL(path, ORIGIN), init);
}

export const process = (path: string, value: string, init?: RequestInit) =>
  request(`${path}?x-oss-process=${value}`, init);

export interface DecodedOutput extends Raster {
  readonly format: string;
  readonly bytes: Uint8Array;
}

/**
 * Decodes a processed response and checks it is a 200 image. JPEG goes through mozjpeg, a decoder
 * independent of the service's own engine, so an engine bug cannot hide behind itself.
 */
export async function decoded(response: Response): Promise<DecodedOutput> {
  const bytes = new Uint8Array(await response.arrayBuffer());
  expect(response.status, new TextDecoder().decode(bytes.slice(0, 300))).toBe(200);
  const header = readHeader(bytes);
  return { ...(await decodeAny(bytes)), format: header.format, bytes };
}

export function pixel(image: Raster, x: number, y: number): number[] {
  const i = (y * image.width + x) * 4;
  return Array.from(image.data.subarray(i, i + 4));
}

/** Asserts a pixel is within `tolerance` of a colour on every channel (lossy codecs drift a little). */
export function expectColour(image: Raster, x: number, y: number, colour: Rgba, tolerance = 24): void {
  const actual = pixel(image, x, y);
  const close = actual.every((value, i) => Math.abs(value - colour[i]) <= tolerance);
  expect(close, `pixel (${x}, ${y}) is ${actual}, expected about ${colour}`).toBe(true);
}

/** The JPEG frame type: "SOF0" baseline, "SOF2" progressive. */
export function jpegFrameType(bytes: Uint8Array): string | undefined {
  let pos = 2;
  while (pos + 4 <= bytes.length && bytes[pos] === 0xff) {
    const marker = bytes[pos + 1];
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return `SOF${marker - 0xc0}`;
    }
    pos += 2 + ((bytes[pos + 2] << 8) | bytes[pos + 3]);
  }
  return undefined;
}

/** The OSS XML error body's fields. */
export async function ossError(
  response: Response,
): Promise<{ status: number; code?: string; message?: string }> {
  const text = await response.text();
  expect(response.headers.get("Content-Type")).toBe("application/xml");
  expect(response.headers.get("x-oss-request-id")).toMatch(/^[0-9A-F]{24}$/);
  const entities: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
  const field = (name: string) =>
    new RegExp(`<${name}>([^<]*)</${name}>`)
      .exec(text)?.[1]
      .replace(/&(\w+);/g, (_, entity) => entities[entity]);
  expect(field("RequestId")).toBe(response.headers.get("x-oss-request-id"));
  return { status: response.status, code: field("Code"), message: field("Message") };
}

/** Inserts an APP1 EXIF segment carrying `orientation` right after the JPEG's SOI marker. */
export function withOrientation(jpeg: Uint8Array, orientation: number): Uint8Array {
  const tiff = [
    0x4d,
    0x4d,
    0x00,
    0x2a,
    0x00,
    0x00,
    0x00,
    0x08, // big-endian TIFF header, IFD0 at 8
    0x00,
    0x01, // one entry
    0x01,
    0x12,
    0x00,
    0x03,
    0x00,
    0x00,
    0x00,
    0x01,
    0x00,
    orientation,
    0x00,
    0x00, // Orientation SHORT
    0x00,
    0x00,
    0x00,
    0x00, // no next IFD
  ];
  const payload = [0x45, 0x78, 0x69, 0x66, 0x00, 0x00, ...tiff];
  const length = payload.length + 2;
  const segment = [0xff, 0xe1, length >> 8, length & 0xff, ...payload];
  const out = new Uint8Array(jpeg.length + segment.length);
  out.set(jpeg.subarray(0, 2));
  out.set(segment, 2);
  out.set(jpeg.subarray(2), 2 + segment.length);
  return out;
}

/**
 * A large generated test image (vitest.config.ts serves them on demand). Tried three times: on a
 * loaded machine the binding to Node now and then drops a connection.
 */
export async function testImage(name: string): Promise<Uint8Array> {
  for (let attempt = 1; ; attempt++) {
    try {
      const response = await env.TEST_IMAGES.fetch(`http://images/${name}`);
      if (!response.ok) throw new Error(`test image ${name}: ${response.status}`);
      return new Uint8Array(await response.arrayBuffer());
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
}

/** A font file by its FONTS bucket key (`noto-sans-sc` is always there), served by vitest.config.ts. */

export async function fontFile(name = "noto-sans-sc"): Promise<Uint8Array> {
  const response = await env.TEST_FONTS.fetch(`http://fonts/${name}`);
  if (!response.ok) throw new Error(await response.text());
  return new Uint8Array(await response.arrayBuffer());
}

/** The box of pixels that differ from `background` by more than `threshold` on some channel. */
export function changedBox(image: Raster, background: Rgba, threshold = 40) {
  let left = image.width;
  let top = image.height;
  let right = -1;
  let bottom = -1;
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      const i = (y * image.width + x) * 4;
      const differs = [0, 1, 2].some((c) => Math.abs(image.data[i + c] - background[c]) > threshold);
      if (!differs) continue;
      left = Math.min(left, x);
      top = Math.min(top, y);
      right = Math.max(right, x);
      bottom = Math.max(bottom, y);
    }
  }
  return right < 0 ? undefined : { left, top, width: right - left + 1, height: bottom - top + 1 };
}

/** Peak signal-to-noise ratio of the colour channels of two images of one size, in dB. */
export function psnr(actual: Raster, expected: Raster): number {
  expect([actual.width, actual.height]).toEqual([expected.width, expected.height]);
  let squares = 0;
  let count = 0;
  for (let i = 0; i < actual.data.length; i += 4) {
    for (let c = 0; c < 3; c++) {
      const difference = actual.data[i + c] - expected.data[i + c];
      squares += difference * difference;
    }
    count += 3;
  }
  return squares === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10((255 * 255 * count) / squares);
}

/** Decodes an image file (a fixture or reference), whole, with the tests' decoders. */
export const decodeFile = (bytes: Uint8Array): Promise<Raster> => decodeAny(bytes);

async function hmacSha1Base64(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-1" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(message)));
  return btoa(String.fromCharCode(...mac));
}

/** The first key pair vitest.config.ts gives the Worker. */
export const TEST_KEY = { id: "test-key-id", secret: "test-secret" };

/**
 * Signs a request with an OSS V1 Authorization header (HMAC-SHA1 over verb, Content-MD5,
 * Content-Type, Date, the `x-oss-*` headers and the canonical resource). `resource` is
 * `/<bucket>/<key>?<sub-resources>`. The ali-oss suite (test/sdk) checks the service against the
 * real SDK's signatures; this is for workerd tests that need a signed request.
 */
export async function signedV1(
  method: string,
  resource: string,
  init: RequestInit = {},
): Promise<RequestInit> {
  const headers = new Headers(init.headers);
  headers.set("Date", new Date().toUTCString());
  const ossHeaders: [string, string][] = [];
  headers.forEach((value, name) => {
    if (name.toLowerCase().startsWith("x-oss-")) ossHeaders.push([name.toLowerCase(), value.trim()]);
  });
  ossHeaders.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const stringToSign = [
    method,
    headers.get("Content-MD5") ?? "",
    headers.get("Content-Type") ?? "",
    headers.get("Date"),
    ossHeaders.map(([name, value]) => `${name}:${value}\n`).join("") + resource,
  ].join("\n");
  headers.set("Authorization", `OSS ${TEST_KEY.id}:${await hmacSha1Base64(TEST_KEY.secret, stringToSign)}`);
  return { ...init, method, headers };
}

/** A V1 signed URL (OSSAccessKeyId, Expires, Signature) for a GET of `/<bucket>/<key>`. */
export async function signedUrlV1(
  bucket: string,
  key: string,
  process?: string,
  { id = TEST_KEY.id, secret = TEST_KEY.secret, expiresIn = 600 } = {},
): Promise<string> {
  const expires = String(Math.floor(Date.now() / 1000) + expiresIn);
  const resource = `/${bucket}/${key}${process ? `?x-oss-process=${process}` : ""}`;
  const stringToSign = ["GET", "", "", expires, resource].join("\n");
  const signature = await hmacSha1Base64(secret, stringToSign);
  const query = new URLSearchParams({ OSSAccessKeyId: id, Expires: expires, Signature: signature });
  if (process) query.set("x-oss-process", process);
  return `/${bucket}/${key.split("/").map(encodeURIComponent).join("/")}?${query}`;
}

const formatImageCache = new Map<string, Promise<Uint8Array>>();
/** A source made by scripts/lib/format-images.mjs (PNG and TIFF layouts, large photos, damaged files). */
export function formatImage(name: string): Promise<Uint8Array> {
  let bytes = formatImageCache.get(name);
  if (!bytes) {
    bytes = env.TEST_FORMAT_IMAGES.fetch(`http://images/${name}`).then(async (response) => {
      if (!response.ok) throw new Error(`test image ${name}: ${response.status}`);
      return new Uint8Array(await response.arrayBuffer());
    });
    formatImageCache.set(name, bytes);
  }
  return bytes;
}

/**
 * The plan the Worker makes for `value` on a source (its estimate, its decisions), under a memory
 * budget: by default the Worker's own, IMAGE_MEMORY_BUDGET_MB unset.
 */
export function planOf(bytes: Uint8Array, value: string, budgetBytes = DEFAULT_MEMORY_BUDGET_MB * MiB): Plan {
  const resources: Resources = {
    memoryBudgetBytes: budgetBytes,
    object: () => Promise.reject(new Error("no objects here")),
    font: () => Promise.reject(new Error("no fonts here")),
  };
  return planProcess(parseProcess(value).actions, readHeader(bytes), resources);
}

const MiB = 1024 * 1024;

/** A Server-Timing entry's duration, or its description (`wasm;desc="38.5"`). */
export function serverTiming(response: Response, name: string): number {
  const header = response.headers.get("Server-Timing") ?? "";
  const entry = new RegExp(`(?:^|, )${name};(?:dur=([\\d.]+)|desc="([\\d.]+)")`).exec(header);
  expect(entry, `Server-Timing has ${name}: ${header}`).not.toBeNull();
  return Number(entry?.[1] ?? entry?.[2]);
}

/** The isolate's WebAssembly memory in MiB after a response (its Server-Timing `wasm` entry). */
export const wasmMiB = (response: Response) => serverTiming(response, "wasm");
