import { EDGE_CACHE_CONTROL, variantCacheKey, variantEtag } from "../cache";
import type { BucketConfig } from "../config";
import { checkSourceBytes } from "../limits";
import type { ParsedProcess } from "../process/parse";
import { runProcess } from "../process/run";
import { evaluatePreconditions, notModified } from "./conditional";
import { noSuchKey } from "./object";

/** What browsers may keep when the object sets no Cache-Control of its own. */
const DEFAULT_CLIENT_CACHE_CONTROL = "public, max-age=3600";

export interface ProcessedRequest {
  readonly bucket: BucketConfig;
  readonly key: string;
  readonly process: ParsedProcess;
  readonly request: Request;
  readonly memoryBudgetBytes: number;
  readonly waitUntil: (promise: Promise<unknown>) => void;
}

/** GET/HEAD with `x-oss-process`: served from the edge cache, or processed and then cached. */
export async function serveProcessed(req: ProcessedRequest): Promise<Response> {
  const { bucket, key, process, request } = req;
  const source = await bucket.store.head(key);
  if (!source) throw noSuchKey();
  checkSourceBytes(source.size);

  const cache = caches.default;
  const cacheKey = variantCacheKey(
    new URL(request.url).origin,
    bucket.name,
    key,
    process.normalized,
    source.httpEtag,
  );
  const clientHeaders = (headers: Headers) => {
    headers.set("Cache-Control", source.httpMetadata?.cacheControl ?? DEFAULT_CLIENT_CACHE_CONTROL);
    return headers;
  };

  const cached = await cache.match(cacheKey);
  if (cached) return finish(request, cached, "HIT", clientHeaders);

  const object = await bucket.store.get(key, { onlyIf: { etagMatches: source.etag } });
  if (!object || !("body" in object)) throw noSuchKey();
  const bytes = new Uint8Array(await (object as R2ObjectBody).arrayBuffer());
  const output = await runProcess(process, bytes, req.memoryBudgetBytes);

  const stored = new Response(output.body, {
    headers: {
      "Content-Type": output.contentType,
      "Content-Length": String(output.body.length),
      ETag: await variantEtag(source.httpEtag, process.normalized),
      "Last-Modified": source.uploaded.toUTCString(),
      "Cache-Control": EDGE_CACHE_CONTROL,
    },
  });
  req.waitUntil(cache.put(cacheKey, stored.clone()));
  return finish(request, stored, "MISS", clientHeaders);
}

function finish(
  request: Request,
  variant: Response,
  cacheStatus: "HIT" | "MISS",
  clientHeaders: (headers: Headers) => Headers,
): Response {
  const headers = clientHeaders(new Headers(variant.headers));
  headers.set("X-Cache", cacheStatus);
  const validators = {
    etag: headers.get("ETag") as string,
    lastModified: new Date(headers.get("Last-Modified") as string),
  };
  if (evaluatePreconditions(request.headers, validators) === "not-modified") {
    void variant.body?.cancel();
    return notModified(validators, {
      "X-Cache": cacheStatus,
      "Cache-Control": headers.get("Cache-Control") ?? "",
    });
  }
  return new Response(request.method === "HEAD" ? null : variant.body, { status: 200, headers });
}
