import type { BucketConfig } from "../config";
import { crc64, crc64Stream } from "../crc64";
import { OssError } from "../errors";
import {
  CRC_HEADER,
  CRC_METADATA,
  CRC_RECORD_METADATA,
  checkUserMetadata,
  forgetCrc,
  recordCrc,
} from "./object-state";
import { fileAlreadyExists, forbidsOverwrite } from "./write-headers";

/** Headers of a PutObject that R2 keeps as HTTP metadata. */
export function httpMetadataOf(headers: Headers): R2HTTPMetadata {
  return {
    contentType: headers.get("Content-Type") ?? undefined,
    contentDisposition: headers.get("Content-Disposition") ?? undefined,
    contentEncoding: headers.get("Content-Encoding") ?? undefined,
    contentLanguage: headers.get("Content-Language") ?? undefined,
    cacheControl: headers.get("Cache-Control") ?? undefined,
  };
}

export function userMetadataOf(headers: Headers): Record<string, string> {
  const metadata: Record<string, string> = {};
  headers.forEach((value, name) => {
    const lower = name.toLowerCase();
    if (lower.startsWith("x-oss-meta-")) metadata[lower.slice("x-oss-meta-".length)] = value;
  });
  return checkUserMetadata(metadata);
}

/** Content-MD5 (Base64) as the hex R2 checks the upload against. */
export function md5Hex(contentMd5: string | null): string | undefined {
  if (contentMd5 === null) return undefined;
  try {
    const bytes = Uint8Array.from(atob(contentMd5), (c) => c.charCodeAt(0));
    if (bytes.length !== 16) throw new Error("not 16 bytes");
    return [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
  } catch {
    throw new OssError("InvalidDigest", "The Content-MD5 you specified is not valid.");
  }
}

/**
 * `x-oss-forbid-overwrite: true` as an R2 conditional put: R2 writes only when no object has the
 * key (`etagDoesNotMatch: "*"`), checked atomically with the write, and returns null otherwise.
 */
export const noOverwrite = (headers: Headers): R2Conditional | undefined =>
  forbidsOverwrite(headers) ? { etagDoesNotMatch: "*" } : undefined;

/**
 * Bodies up to this size are read whole, so their CRC-64 is stored with them; larger ones stream
 * into R2 (their CRC computed on the way, kept as a record once R2 has them), never held whole.
 */
export const INLINE_CRC_LIMIT_BYTES = 5 * 1024 * 1024;

/** The Content-Length of a request with a body, or undefined when it is not given (chunked). */
export function contentLength(headers: Headers): number | undefined {
  const value = headers.get("Content-Length");
  if (value === null) return undefined;
  if (!/^\d{1,16}$/.test(value.trim()))
    throw new OssError("InvalidArgument", "Content-Length is not a number.");
  return Number(value);
}

export const incompleteBody = () =>
  new OssError("IncompleteBody", "The request body is shorter or longer than its Content-Length.");

/**
 * Streams a body of a known length through a CRC-64 into `write` (an R2 put or part upload): R2
 * needs the length of a streamed body up front, which a FixedLengthStream carries.
 */
export async function streamWithCrc<T>(
  body: ReadableStream<Uint8Array>,
  length: number,
  write: (stream: ReadableStream<Uint8Array>) => Promise<T>,
): Promise<{ result: T; crc: bigint }> {
  const { stream, crc } = crc64Stream();
  const { readable, writable } = new FixedLengthStream(length);
  const piping = body.pipeThrough(stream).pipeTo(writable);
  // A short or long body errors the FixedLengthStream, so R2's write fails and nothing is stored.
  let pipeError: unknown;
  piping.catch((error) => {
    pipeError = error ?? new Error("body stream failed");
  });
  let result: T;
  try {
    result = await write(readable);
    await piping;
  } catch (error) {
    if (pipeError !== undefined) throw incompleteBody();
    throw error;
  }
  return { result, crc: crc.value };
}

/** PutObject: the body with its Content-Type, other HTTP metadata, `x-oss-meta-*` and its CRC-64. */
export async function putObject(
  bucket: BucketConfig,
  state: R2Bucket,
  key: string,
  request: Request,
): Promise<Response> {
  const md5 = md5Hex(request.headers.get("Content-MD5"));
  const length = contentLength(request.headers);
  const options: R2PutOptions = {
    httpMetadata: httpMetadataOf(request.headers),
    customMetadata: userMetadataOf(request.headers),
    md5,
    onlyIf: noOverwrite(request.headers),
  };
  const put = async (value: ArrayBuffer | ReadableStream, extra: Record<string, string>) => {
    try {
      return await bucket.store.put(key, value, {
        ...options,
        customMetadata: { ...options.customMetadata, ...extra },
      });
    } catch (error) {
      if (md5)
        throw new OssError("InvalidDigest", "The Content-MD5 you specified did not match what we received.");
      throw error;
    }
  };

  let object: R2Object | null;
  let crc: bigint;
  if (length === undefined || length <= INLINE_CRC_LIMIT_BYTES || request.body === null) {
    const body = await request.arrayBuffer();
    crc = crc64(new Uint8Array(body));
    object = await put(body, { [CRC_METADATA]: crc.toString() });
  } else {
    const streamed = await streamWithCrc(request.body, length, (stream) =>
      put(stream, { [CRC_RECORD_METADATA]: "1" }),
    );
    object = streamed.result;
    crc = streamed.crc;
    if (object) await recordCrc(state, bucket.name, object, crc);
  }
  if (!object) throw fileAlreadyExists();
  return new Response(null, {
    status: 200,
    headers: { ETag: object.httpEtag, [CRC_HEADER]: crc.toString() },
  });
}

/** DeleteObject: 204 whether or not the object existed, as OSS answers. */
export async function deleteObject(bucket: BucketConfig, state: R2Bucket, key: string): Promise<Response> {
  await bucket.store.delete(key);
  await forgetCrc(state, bucket.name, key);
  return new Response(null, { status: 204 });
}
