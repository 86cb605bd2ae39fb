import type { BucketConfig } from "../config";
import { findUpload, forgetUpload } from "./multipart-state";

/**
 * AbortMultipartUpload (`DELETE /<key>?uploadId=<id>`): R2 drops the parts, then the records go,
 * so nothing of the upload is left. 204, as OSS answers.
 */
export async function abortMultipartUpload(
  bucket: BucketConfig,
  state: R2Bucket,
  key: string,
  uploadId: string | undefined,
): Promise<Response> {
  const upload = await findUpload(state, bucket.name, key, uploadId);
  await bucket.store.resumeMultipartUpload(key, upload.r2UploadId).abort();
  await forgetUpload(state, bucket.name, upload.uploadId);
  return new Response(null, { status: 204 });
}
