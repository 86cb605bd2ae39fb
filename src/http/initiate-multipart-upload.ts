import type { QueryParam } from "../auth/canonical";
import type { BucketConfig } from "../config";
import { invalidArgument, OssError } from "../errors";
import { newUploadId, saveUpload } from "./multipart-state";
import { CRC_RECORD_METADATA } from "./object-state";
import { httpMetadataOf, userMetadataOf } from "./object-write";
import { forbidsOverwrite } from "./write-headers";
import { escapeXml } from "./xml";

/** `encoding-type=url` of the multipart APIs: keys in the answer URL-encoded, and said so. */
export function keyEncoding(params: readonly QueryParam[]): (key: string) => string {
  const encoding = params.find((param) => param.key === "encoding-type")?.value;
  if (encoding === undefined || encoding === "") return escapeXml;
  if (encoding.toLowerCase() !== "url") throw invalidArgument("encoding-type must be url.");
  return (key) => encodeURIComponent(key);
}

export const encodingTypeElement = (params: readonly QueryParam[]) =>
  params.some((param) => param.key === "encoding-type" && param.value)
    ? "  <EncodingType>url</EncodingType>\n"
    : "";

/**
 * InitiateMultipartUpload (`POST /<key>?uploads`): an R2 multipart upload with the request's HTTP
 * metadata and `x-oss-meta-*` (R2 fixes an object's metadata when its upload starts), and its
 * record. The object's CRC-64 is known at completion only, so it will be a record (object-state.ts).
 */
export async function initiateMultipartUpload(
  bucket: BucketConfig,
  state: R2Bucket,
  key: string,
  request: Request,
  params: readonly QueryParam[],
): Promise<Response> {
  const encodeKey = keyEncoding(params);
  if (forbidsOverwrite(request.headers)) {
    // R2 completes an upload unconditionally: a check before it could not stop a write racing it.
    throw new OssError(
      "NotImplemented",
      "x-oss-forbid-overwrite cannot be guaranteed for multipart uploads here; PutObject honours it.",
    );
  }
  const metadata = {
    httpMetadata: httpMetadataOf(request.headers),
    customMetadata: userMetadataOf(request.headers),
  };
  const upload = await bucket.store.createMultipartUpload(key, {
    httpMetadata: metadata.httpMetadata,
    customMetadata: { ...metadata.customMetadata, [CRC_RECORD_METADATA]: "1" },
  });
  const uploadId = newUploadId();
  await saveUpload(state, bucket.name, { uploadId, key, r2UploadId: upload.uploadId }, metadata);
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<InitiateMultipartUploadResult>\n${encodingTypeElement(params)}  <Bucket>${escapeXml(bucket.name)}</Bucket>\n  <Key>${encodeKey(key)}</Key>\n  <UploadId>${uploadId}</UploadId>\n</InitiateMultipartUploadResult>\n`;
  return new Response(body, { headers: { "Content-Type": "application/xml" } });
}
