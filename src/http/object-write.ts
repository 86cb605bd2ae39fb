import { OssError } from "../errors";
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
  return metadata;
}

/** Content-MD5 (Base64) as the hex R2 checks the upload against. */
function md5Hex(contentMd5: string | null): string | undefined {
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

/** PutObject: the body with its Content-Type, other HTTP metadata and `x-oss-meta-*`. */
export async function putObject(store: R2Bucket, key: string, request: Request): Promise<Response> {
  const md5 = md5Hex(request.headers.get("Content-MD5"));
  const body = await request.arrayBuffer();
  let object: R2Object | null;
  try {
    object = await store.put(key, body, {
      httpMetadata: httpMetadataOf(request.headers),
      customMetadata: userMetadataOf(request.headers),
      md5,
      onlyIf: noOverwrite(request.headers),
    });
  } catch (error) {
    if (md5)
      throw new OssError("InvalidDigest", "The Content-MD5 you specified did not match what we received.");
    throw error;
  }
  if (!object) throw fileAlreadyExists();
  return new Response(null, { status: 200, headers: { ETag: object.httpEtag } });
}

/** DeleteObject: 204 whether or not the object existed, as OSS answers. */
export async function deleteObject(store: R2Bucket, key: string): Promise<Response> {
  await store.delete(key);
  return new Response(null, { status: 204 });
}
