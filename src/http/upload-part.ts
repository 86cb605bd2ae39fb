import type { BucketConfig } from "../config";
import { crc64 } from "../crc64";
import { invalidArgument, OssError } from "../errors";
import {
  findUpload,
  forgetPart,
  MAX_PART_NUMBER,
  noSuchUpload,
  savePart,
  stagePart,
} from "./multipart-state";
import { CRC_HEADER } from "./object-state";
import { contentLength, incompleteBody, md5Hex, streamWithCrc } from "./object-write";

/** R2 assembles parts of at least this size (all but the last); smaller ones are staged. */
export const R2_MIN_PART_BYTES = 5 * 1024 * 1024;

/** OSS's largest part. */
const MAX_PART_BYTES = 5 * 1024 * 1024 * 1024;

export function parsePartNumber(text: string | undefined): number {
  const number = text !== undefined && /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(number >= 1 && number <= MAX_PART_NUMBER)) {
    throw invalidArgument(`partNumber must be an integer from 1 to ${MAX_PART_NUMBER}.`);
  }
  return number;
}

/**
 * UploadPart (`PUT /<key>?partNumber=<n>&uploadId=<id>`), in any order, a part number uploaded
 * again replacing the earlier part: streamed into R2's part with its CRC-64 computed on the way,
 * then recorded (ETag, size, CRC; the record's time is the part's LastModified).
 */
export async function uploadPart(
  bucket: BucketConfig,
  state: R2Bucket,
  key: string,
  request: Request,
  partNumberText: string | undefined,
  uploadId: string | undefined,
): Promise<Response> {
  const partNumber = parsePartNumber(partNumberText);
  const upload = await findUpload(state, bucket.name, key, uploadId);
  const md5 = md5Hex(request.headers.get("Content-MD5"));
  // R2 takes a streamed part only with its length known; no SDK sends a part without one.
  const length = contentLength(request.headers);
  if (length === undefined) {
    throw new OssError("MissingContentLength", "UploadPart needs a Content-Length.");
  }
  if (length > MAX_PART_BYTES) throw new OssError("EntityTooLarge", "A part is at most 5 GB.");
  if (length < R2_MIN_PART_BYTES) {
    return stageSmallPart(state, bucket.name, upload.uploadId, partNumber, request, length, md5);
  }
  const r2Upload = bucket.store.resumeMultipartUpload(key, upload.r2UploadId);
  let body = request.body ?? new Blob([]).stream();
  // R2 checks no digest of a part: the MD5 is taken on the way and compared once R2 has the part.
  let digest: Promise<ArrayBuffer> | undefined;
  if (md5) {
    const digester = new crypto.DigestStream("MD5");
    digest = digester.digest;
    const [forR2, forDigest] = body.tee();
    void forDigest.pipeTo(digester).catch(() => {});
    body = forR2;
  }
  let part: R2UploadedPart;
  let crc: bigint;
  try {
    const streamed = await streamWithCrc(body, length, (stream) => r2Upload.uploadPart(partNumber, stream));
    part = streamed.result;
    crc = streamed.crc;
  } catch (error) {
    // R2 no longer knowing the upload means it was completed or aborted meanwhile.
    if (error instanceof Error && /upload/i.test(error.message) && !(error instanceof OssError)) {
      throw noSuchUpload();
    }
    throw error;
  }
  if (digest && hex(await digest) !== md5) {
    // The part R2 now holds is not what the client sent: no record names it, so no Complete can use it.
    await forgetPart(state, bucket.name, upload.uploadId, partNumber);
    throw badDigest();
  }
  await savePart(state, bucket.name, upload.uploadId, {
    partNumber,
    etag: part.etag,
    size: length,
    crc,
    staged: false,
  });
  const headers = new Headers({ ETag: `"${part.etag}"`, [CRC_HEADER]: crc.toString() });
  return new Response(null, { status: 200, headers });
}

const hex = (buffer: ArrayBuffer) =>
  [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");

const badDigest = () =>
  new OssError("InvalidDigest", "The Content-MD5 you specified did not match what we received.");

/** A part under R2's minimum, read whole (under 5 MiB) and staged as its record's body. */
async function stageSmallPart(
  state: R2Bucket,
  bucket: string,
  uploadId: string,
  partNumber: number,
  request: Request,
  length: number,
  md5: string | undefined,
): Promise<Response> {
  const bytes = new Uint8Array(await request.arrayBuffer());
  if (bytes.length !== length) throw incompleteBody();
  if (md5 && hex(await crypto.subtle.digest("MD5", bytes)) !== md5) throw badDigest();
  const crc = crc64(bytes);
  const etag = await stagePart(state, bucket, uploadId, partNumber, bytes, crc);
  return new Response(null, { status: 200, headers: { ETag: `"${etag}"`, [CRC_HEADER]: crc.toString() } });
}
