import type { BucketConfig } from "../config";
import { OssError } from "../errors";
import { evaluatePreconditions, notModified, type Validators } from "./conditional";
import { CRC_HEADER, objectCrc, userMetadata } from "./object-state";
import { parseRange } from "./range";

export const noSuchKey = () => new OssError("NoSuchKey", "The specified key does not exist.");

export function validatorsOf(object: R2Object): Validators {
  return { etag: object.httpEtag, lastModified: object.uploaded };
}

/**
 * OSS's object type: R2 gives objects completed from its multipart uploads a `-<parts>` ETag, as
 * OSS does. (An upload of parts under 5 MiB is assembled into one put here, and reads as Normal.)
 */
export const objectType = (object: R2Object) => (/-\d+$/.test(object.etag) ? "Multipart" : "Normal");

/** The headers OSS sends for a stored object: type, validators, user metadata. */
export function objectHeaders(object: R2Object): Headers {
  const headers = new Headers();
  object.writeHttpMetadata(headers);
  if (!headers.has("Content-Type")) headers.set("Content-Type", "application/octet-stream");
  headers.set("ETag", object.httpEtag);
  headers.set("Last-Modified", object.uploaded.toUTCString());
  headers.set("Accept-Ranges", "bytes");
  headers.set("x-oss-object-type", objectType(object));
  for (const [name, value] of Object.entries(userMetadata(object))) headers.set(`x-oss-meta-${name}`, value);
  return headers;
}

/**
 * GET/HEAD without processing: the stored bytes, with Range and conditional requests, and the
 * object's CRC-64 when it is known (a ranged answer carries the whole object's, as OSS's do).
 */
export async function serveObject(
  bucket: BucketConfig,
  state: R2Bucket,
  key: string,
  request: Request,
): Promise<Response> {
  const { store } = bucket;
  const head = request.method === "HEAD";
  const wantsRange = !head && request.headers.has("Range");
  const object = head || wantsRange ? await store.head(key) : await store.get(key);
  if (!object) throw noSuchKey();
  const body = "body" in object ? (object as R2ObjectBody).body : undefined;

  const headers = objectHeaders(object);
  const outcome = evaluateOrCancel(request.headers, object, body);
  if (outcome === "not-modified") return notModified(validatorsOf(object));
  const crc = await objectCrc(state, bucket.name, object);
  if (crc !== undefined) headers.set(CRC_HEADER, crc);

  if (head) {
    headers.set("Content-Length", String(object.size));
    return new Response(null, { headers });
  }
  const range = wantsRange ? parseRange(request.headers.get("Range"), object.size) : undefined;
  if (!range) {
    const full = body ?? (await store.get(key))?.body;
    if (!full) throw noSuchKey();
    headers.set("Content-Length", String(object.size));
    return new Response(full, { headers });
  }
  const part = await store.get(key, { range });
  if (!part) throw noSuchKey();
  headers.set("Content-Length", String(range.length));
  headers.set("Content-Range", `bytes ${range.offset}-${range.offset + range.length - 1}/${object.size}`);
  return new Response(part.body, { status: 206, headers });
}

/**
 * GetObjectMeta (`HEAD /<key>?objectMeta`, and GET, which OSS answers too): the size, ETag and
 * times of an object without its other headers or body. R2 does not track reads, so the last
 * access time is the last modification, as OSS reports it when access tracking is off.
 */
export async function serveObjectMeta(store: R2Bucket, key: string, method: string): Promise<Response> {
  const object = await store.head(key);
  if (!object) throw noSuchKey();
  const lastModified = object.uploaded.toUTCString();
  const headers = new Headers({
    ETag: object.httpEtag,
    "Last-Modified": lastModified,
    "x-oss-last-access-time": lastModified,
  });
  // A HEAD tells the size the way HEAD always does; a GET's Content-Length is its (empty) body's.
  if (method === "HEAD") headers.set("Content-Length", String(object.size));
  return new Response(null, { headers });
}

/** Evaluates preconditions, releasing the unread body when the answer will not carry it. */
function evaluateOrCancel(
  headers: Headers,
  object: R2Object,
  body?: ReadableStream,
): "not-modified" | undefined {
  try {
    const outcome = evaluatePreconditions(headers, validatorsOf(object));
    if (outcome) void body?.cancel();
    return outcome;
  } catch (error) {
    void body?.cancel();
    throw error;
  }
}
