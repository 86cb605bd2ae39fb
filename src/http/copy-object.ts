import type { BucketConfig, ServiceConfig } from "../config";
import { invalidArgument, OssError } from "../errors";
import { evaluatePreconditions } from "./conditional";
import { noSuchKey, validatorsOf } from "./object";
import { checkObjectName } from "./object-name";
import { CRC_HEADER, CRC_METADATA, objectCrc, userMetadata } from "./object-state";
import { httpMetadataOf, noOverwrite, userMetadataOf } from "./object-write";
import { fileAlreadyExists, forbidsOverwrite } from "./write-headers";

/** OSS's CopyObject limit; OSS copies larger objects with UploadPartCopy, which is not implemented. */
export const COPY_LIMIT_BYTES = 1024 * 1024 * 1024;

interface CopySource {
  readonly bucket: BucketConfig;
  readonly key: string;
}

const badSource = () => invalidArgument("x-oss-copy-source must be /<bucket>/<URL-encoded object>.");

/** Form decoding, as the source header is written: Go's SDK encodes it with url.QueryEscape (space as `+`). */
function decodeSourcePart(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll("+", " "));
  } catch {
    throw badSource();
  }
}

/**
 * `x-oss-copy-source: /<bucket>/<URL-encoded key>` (the leading slash optional), naming a bucket
 * this service configures.
 */
export function parseCopySource(header: string, config: ServiceConfig): CopySource {
  const value = header.trim();
  const path = value.startsWith("/") ? value.slice(1) : value;
  const question = path.indexOf("?");
  if (question >= 0) {
    if (/(^|&)versionId(=|&|$)/.test(path.slice(question + 1))) {
      throw new OssError(
        "NotImplemented",
        "Buckets have no versioning: x-oss-copy-source cannot name a versionId.",
      );
    }
    throw badSource();
  }
  const slash = path.indexOf("/");
  if (slash <= 0 || slash === path.length - 1) throw badSource();
  const bucketName = decodeSourcePart(path.slice(0, slash));
  const key = decodeSourcePart(path.slice(slash + 1));
  checkObjectName(key);
  const bucket = config.buckets.get(bucketName);
  if (!bucket) throw new OssError("NoSuchBucket", "The source bucket of the copy does not exist.");
  return { bucket, key };
}

/** The `x-oss-copy-source-if-*` conditions as the HTTP conditional headers they mirror. */
function copyConditions(headers: Headers): Headers {
  const conditions = new Headers();
  for (const name of ["If-Match", "If-None-Match", "If-Unmodified-Since", "If-Modified-Since"]) {
    const value = headers.get(`x-oss-copy-source-${name.toLowerCase()}`);
    if (value !== null) conditions.set(name, value);
  }
  return conditions;
}

/** COPY (the default) keeps the source's HTTP metadata and `x-oss-meta-*`; REPLACE takes the request's. */
function metadataFor(
  headers: Headers,
  source: R2Object,
): Pick<R2PutOptions, "httpMetadata" | "customMetadata"> {
  const directive = headers.get("x-oss-metadata-directive");
  switch (directive === null ? "COPY" : directive.trim().toUpperCase()) {
    case "COPY":
      return { httpMetadata: source.httpMetadata, customMetadata: userMetadata(source) };
    case "REPLACE":
      return { httpMetadata: httpMetadataOf(headers), customMetadata: userMetadataOf(headers) };
    default:
      throw invalidArgument("x-oss-metadata-directive must be COPY or REPLACE.");
  }
}

function copyResult(object: R2Object, crc: string | undefined): Response {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<CopyObjectResult>\n  <ETag>${object.httpEtag}</ETag>\n  <LastModified>${object.uploaded.toISOString()}</LastModified>\n</CopyObjectResult>\n`;
  const headers = new Headers({ "Content-Type": "application/xml", ETag: object.httpEtag });
  if (crc !== undefined) headers.set(CRC_HEADER, crc);
  return new Response(body, { headers });
}

/**
 * CopyObject (`PUT /<key>` with `x-oss-copy-source`), within a bucket or between the buckets this
 * service configures. R2 has no server-side copy, so the source's bytes are streamed into the
 * new object, never held whole. Nothing is written unless the copy succeeds.
 */
export async function copyObject(
  config: ServiceConfig,
  target: BucketConfig,
  key: string,
  request: Request,
): Promise<Response> {
  const { headers } = request;
  const from = parseCopySource(headers.get("x-oss-copy-source") ?? "", config);
  // Onto itself (how SDKs update an object's metadata) the object is rewritten with its own bytes.
  const sameObject =
    from.key === key && (from.bucket.name === target.name || from.bucket.store === target.store);
  if (forbidsOverwrite(headers) && (sameObject || (await target.store.head(key)))) throw fileAlreadyExists();

  const source = await from.bucket.store.get(from.key);
  if (!source) throw noSuchKey();
  let options: R2PutOptions;
  let crc: string | undefined;
  try {
    if (source.size > COPY_LIMIT_BYTES) {
      throw new OssError(
        "EntityTooLarge",
        `The source object is ${source.size} bytes; CopyObject copies at most ${COPY_LIMIT_BYTES}.`,
      );
    }
    if (evaluatePreconditions(copyConditions(headers), validatorsOf(source)) === "not-modified") {
      await source.body.cancel();
      return new Response(null, { status: 304 });
    }
    // The copy has the source's bytes, so its CRC: kept with the copy whichever metadata it gets.
    crc = await objectCrc(config.objectState, from.bucket.name, source);
    const metadata = metadataFor(headers, source);
    options = {
      ...metadata,
      customMetadata: { ...metadata.customMetadata, ...(crc === undefined ? {} : { [CRC_METADATA]: crc }) },
      // The head above answers early; the conditional put is what guarantees it. Onto itself, the
      // write must not undo a change made to the object since it was read.
      onlyIf: sameObject ? { etagMatches: source.etag } : noOverwrite(headers),
    };
  } catch (error) {
    await source.body.cancel();
    throw error;
  }

  const object = await streamInto(target.store, key, source, options);
  if (!object) {
    if (sameObject) throw new OssError("PreconditionFailed", "The object changed while it was being copied.");
    throw fileAlreadyExists();
  }
  return copyResult(object, crc);
}

/** R2 needs a streamed body's length up front: a FixedLengthStream carries it, the bytes pass through. */
async function streamInto(
  store: R2Bucket,
  key: string,
  source: R2ObjectBody,
  options: R2PutOptions,
): Promise<R2Object | null> {
  const { readable, writable } = new FixedLengthStream(source.size);
  const piping = source.body.pipeTo(writable);
  // A failed read errors the stream, so the put fails too and reports it. A refused conditional
  // put has read the body through (R2 checks the condition when the upload ends), so nothing waits.
  piping.catch(() => {});
  const object = await store.put(key, readable, options);
  if (object) await piping;
  return object;
}
