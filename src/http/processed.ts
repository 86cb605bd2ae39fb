import { EDGE_CACHE_CONTROL, variantCacheKey, variantEtag } from "../cache";
import type { BucketConfig } from "../config";
import type { Deadline } from "../deadline";
import { engineMemoryMiB } from "../engine/instance";
import { OssError } from "../errors";
import { r2FontStore } from "../fonts";
import { readHeader } from "../image/header";
import { checkSourceBytes } from "../limits";
import type { ParsedProcess } from "../process/parse";
import { type ProcessEnvironment, runProcess } from "../process/run";
import type { ProcessOutput } from "../process/types";
import { Timings } from "../timing";
import { evaluatePreconditions, notModified } from "./conditional";
import { candidatesFor, type Negotiation, negotiation, withFormat } from "./negotiate";
import { noSuchKey } from "./object";

/** What browsers may keep when the object sets no Cache-Control of its own. */
const DEFAULT_CLIENT_CACHE_CONTROL = "public, max-age=3600";

export interface ProcessedRequest {
  readonly bucket: BucketConfig;
  readonly key: string;
  readonly process: ParsedProcess;
  readonly request: Request;
  readonly memoryBudgetBytes: number;
  readonly deadline: Deadline;
  readonly fonts: R2Bucket;
  readonly waitUntil: (promise: Promise<unknown>) => void;
  /** Logs what the engine worked around (a broken colour profile): the image is still served. */
  readonly warn: (message: string) => void;
}

/** GET/HEAD with `x-oss-process`: served from the edge cache, or processed and then cached. */
export async function serveProcessed(req: ProcessedRequest): Promise<Response> {
  const { bucket, key, process, request } = req;
  // One read serves both outcomes: its metadata makes the cache key, and its body (streamed only
  // when read) is the source on a miss. A HEAD first would cost every miss a second R2 operation.
  const timings = new Timings(engineMemoryMiB);
  const source = await timings.measure("read", () => openSource(bucket.store, key));
  let bodyRead = false;
  try {
    // A variant depends on every object it reads: the source and any watermark images.
    const references = await Promise.all(process.references.map((reference) => bucket.store.head(reference)));
    const missing = process.references.find((_, i) => !references[i]);
    if (missing !== undefined)
      throw new OssError("WatermarkError", `The watermark object ${missing} does not exist.`);
    const etags = [source, ...references].map((object) => (object as R2Object).httpEtag).join(",");

    // A negotiating bucket's variants depend on what the client accepts: keyed by it, Vary: Accept.
    const negotiated = negotiation(bucket.negotiateFormat, process, request.headers.get("Accept"));
    const variant = negotiated ? `${process.normalized}#accept=${negotiated.accept}` : process.normalized;
    const cache = caches.default;
    const cacheKey = variantCacheKey(new URL(request.url).origin, bucket.name, key, variant, etags);
    const clientHeaders = (headers: Headers) => {
      headers.set("Cache-Control", source.httpMetadata?.cacheControl ?? DEFAULT_CLIENT_CACHE_CONTROL);
      if (negotiated) headers.set("Vary", "Accept");
      return headers;
    };

    const cached = await timings.measure("cache", () => cache.match(cacheKey));
    timings.describe("cache", cached ? "hit" : "miss");
    if (cached) return finish(request, cached, "HIT", clientHeaders, timings);

    bodyRead = true;
    const bytes = await timings.measure("read", async () => new Uint8Array(await source.arrayBuffer()));
    const environment = processEnvironment(
      bucket,
      req.fonts,
      req.memoryBudgetBytes,
      timings,
      req.deadline,
      req.warn,
    );
    const output = negotiated
      ? await runNegotiated(negotiated, process, bytes, environment)
      : await runProcess(process, bytes, environment);

    const headers = {
      "Content-Type": output.contentType,
      "Content-Length": String(output.body.length),
      ETag: await variantEtag(etags, variant),
      "Last-Modified": source.uploaded.toUTCString(),
      "Cache-Control": EDGE_CACHE_CONTROL,
    };
    // Two responses over the same bytes, rather than one cloned: a clone tees the body stream,
    // and the cache's copy would then be read chunk by chunk alongside the client's.
    req.waitUntil(cache.put(cacheKey, new Response(output.body, { headers })));
    return finish(request, new Response(output.body, { headers }), "MISS", clientHeaders, timings);
  } finally {
    if (!bodyRead) await source.body.cancel();
  }
}

/**
 * A negotiated request: the best format the client accepts that the plan can hold (a 12 MP AVIF
 * may not fit where a WebP does; WebP stops at 16,383 pixels a side), else the OSS answer.
 */
async function runNegotiated(
  negotiated: Negotiation,
  process: ParsedProcess,
  bytes: Uint8Array,
  environment: ProcessEnvironment,
): Promise<ProcessOutput> {
  for (const candidate of candidatesFor(negotiated, process, readHeader(bytes).frames)) {
    try {
      return await runProcess(withFormat(process, candidate), bytes, environment);
    } catch (error) {
      if (!(error instanceof OssError && error.code === "ImageTooLarge")) throw error;
    }
  }
  return runProcess(process, bytes, environment);
}

/** What a process of an object in `bucket` may read: the bucket's other objects, and the fonts. */
export function processEnvironment(
  bucket: BucketConfig,
  fonts: R2Bucket,
  memoryBudgetBytes: number,
  timings: Timings,
  deadline: Deadline,
  warn: (message: string) => void,
): ProcessEnvironment {
  return {
    memoryBudgetBytes,
    timings,
    deadline,
    warn,
    readObject: (reference) => readBytes(bucket.store, reference),
    fonts: r2FontStore(fonts),
  };
}

/**
 * The source object with its body not yet read: one R2 operation gives the metadata and, when
 * needed, the bytes. Missing objects and sources over OSS's size limit are refused here.
 */
export async function openSource(store: R2Bucket, key: string): Promise<R2ObjectBody> {
  const source = await store.get(key);
  if (!source) throw noSuchKey();
  try {
    checkSourceBytes(source.size);
  } catch (error) {
    await source.body.cancel();
    throw error;
  }
  return source;
}

export async function readBytes(store: R2Bucket, key: string): Promise<Uint8Array | undefined> {
  const object = await store.get(key);
  return object ? new Uint8Array(await object.arrayBuffer()) : undefined;
}

function finish(
  request: Request,
  variant: Response,
  cacheStatus: "HIT" | "MISS",
  clientHeaders: (headers: Headers) => Headers,
  timings: Timings,
): Response {
  const headers = clientHeaders(new Headers(variant.headers));
  headers.set("X-Cache", cacheStatus);
  headers.set("Server-Timing", timings.header());
  const validators = {
    etag: headers.get("ETag") as string,
    lastModified: new Date(headers.get("Last-Modified") as string),
  };
  if (evaluatePreconditions(request.headers, validators) === "not-modified") {
    void variant.body?.cancel();
    const extra: Record<string, string> = {
      "X-Cache": cacheStatus,
      "Cache-Control": headers.get("Cache-Control") ?? "",
    };
    const vary = headers.get("Vary");
    if (vary) extra.Vary = vary;
    return notModified(validators, extra);
  }
  return new Response(request.method === "HEAD" ? null : variant.body, { status: 200, headers });
}
