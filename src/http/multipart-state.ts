import { OssError } from "../errors";

/**
 * Multipart uploads in progress, kept in the OBJECT_STATE bucket. R2's Worker API can upload and
 * complete parts but cannot list them, and keeps no time or checksum for a part, while OSS's
 * ListParts answers each part's ETag, size, CRC-64 and LastModified, and CompleteMultipartUpload
 * checks the ETags it is sent: so every upload and part leaves a small record here.
 *
 * - `uploads/<bucket>/<uploadId>`: the object key and R2's own upload id (OSS upload ids are
 *   32 hex digits; R2's are long and not ours to put in URLs) as metadata, and the object's HTTP
 *   and user metadata as the JSON body, for an object assembled from staged parts;
 * - `uploads/<bucket>/<uploadId>/<part number, 5 digits>`: one part, its record's upload time
 *   being the part's LastModified. Five digits keep R2's key order the part number order.
 *
 * R2 assembles only parts of at least 5 MiB, all of one size but the last, while OSS takes parts
 * from 100 KB and the SDKs' defaults are smaller (ali-oss: 1 MiB). A part under 5 MiB is therefore
 * staged: its bytes are the body of its record, and CompleteMultipartUpload writes them into R2.
 */

export const MAX_PART_NUMBER = 10_000;

export interface UploadRecord {
  readonly uploadId: string;
  readonly key: string;
  readonly r2UploadId: string;
  readonly initiated: Date;
}

export interface PartRecord {
  readonly partNumber: number;
  /** The part's ETag as R2 gave it (unquoted). */
  readonly etag: string;
  readonly size: number;
  readonly crc: bigint;
  readonly lastModified: Date;
  /** True when the part's bytes are its record's body, not a part of R2's upload. */
  readonly staged: boolean;
}

/** What the object gets when it is assembled from staged parts (R2's upload has it otherwise). */
export interface UploadMetadata {
  readonly httpMetadata: R2HTTPMetadata;
  readonly customMetadata: Record<string, string>;
}

const uploadKey = (bucket: string, uploadId: string) => `uploads/${bucket}/${uploadId}`;
export const partsPrefix = (bucket: string, uploadId: string) => `${uploadKey(bucket, uploadId)}/`;
const partKey = (bucket: string, uploadId: string, partNumber: number) =>
  `${partsPrefix(bucket, uploadId)}${String(partNumber).padStart(5, "0")}`;

export const noSuchUpload = () =>
  new OssError(
    "NoSuchUpload",
    "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
  );

export function newUploadId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((byte) => byte.toString(16).padStart(2, "0").toUpperCase()).join("");
}

export async function saveUpload(
  state: R2Bucket,
  bucket: string,
  upload: Omit<UploadRecord, "initiated">,
  metadata: UploadMetadata,
) {
  const record = await state.put(uploadKey(bucket, upload.uploadId), JSON.stringify(metadata), {
    customMetadata: { key: upload.key, r2: upload.r2UploadId },
  });
  return record.uploaded;
}

export async function uploadMetadata(
  state: R2Bucket,
  bucket: string,
  uploadId: string,
): Promise<UploadMetadata> {
  const record = await state.get(uploadKey(bucket, uploadId));
  if (!record) throw noSuchUpload();
  return JSON.parse(await record.text()) as UploadMetadata;
}

/** The upload, which must be of `key`: an upload id of another object is NoSuchUpload, as on OSS. */
export async function findUpload(
  state: R2Bucket,
  bucket: string,
  key: string,
  uploadId: string | undefined,
): Promise<UploadRecord> {
  if (!uploadId || !/^[0-9A-F]{32}$/.test(uploadId)) throw noSuchUpload();
  const record = await state.head(uploadKey(bucket, uploadId));
  const metadata = record?.customMetadata;
  if (!record || !metadata || metadata.key !== key || !metadata.r2) throw noSuchUpload();
  return { uploadId, key, r2UploadId: metadata.r2, initiated: record.uploaded };
}

export async function savePart(
  state: R2Bucket,
  bucket: string,
  uploadId: string,
  part: Omit<PartRecord, "lastModified">,
): Promise<void> {
  await state.put(partKey(bucket, uploadId, part.partNumber), null, {
    customMetadata: { etag: part.etag, size: String(part.size), crc: part.crc.toString() },
    // A part uploaded to R2 replaces one staged under the same number (its bytes go with it).
  });
}

/** Stages a part under R2's minimum: its bytes become its record's body, its ETag the record's. */
export async function stagePart(
  state: R2Bucket,
  bucket: string,
  uploadId: string,
  partNumber: number,
  bytes: Uint8Array,
  crc: bigint,
): Promise<string> {
  const record = await state.put(partKey(bucket, uploadId, partNumber), bytes, {
    customMetadata: { staged: "1", size: String(bytes.length), crc: crc.toString() },
  });
  return record.etag;
}

/** A staged part's bytes, streamed. */
export async function stagedBytes(state: R2Bucket, bucket: string, uploadId: string, partNumber: number) {
  const record = await state.get(partKey(bucket, uploadId, partNumber));
  if (!record) throw noSuchUpload();
  return record;
}

export async function forgetPart(state: R2Bucket, bucket: string, uploadId: string, partNumber: number) {
  await state.delete(partKey(bucket, uploadId, partNumber));
}

function partOf(object: R2Object, prefix: string): PartRecord {
  const metadata = object.customMetadata ?? {};
  return {
    partNumber: Number(object.key.slice(prefix.length)),
    etag: metadata.etag ?? object.etag,
    size: Number(metadata.size ?? 0),
    crc: BigInt(metadata.crc ?? 0),
    lastModified: object.uploaded,
    staged: metadata.staged === "1",
  };
}

/**
 * Parts in part-number order after `marker`, at most `limit` of them (all when undefined), and
 * whether more follow.
 */
export async function listParts(
  state: R2Bucket,
  bucket: string,
  uploadId: string,
  marker = 0,
  limit?: number,
): Promise<{ parts: PartRecord[]; truncated: boolean }> {
  const prefix = partsPrefix(bucket, uploadId);
  const parts: PartRecord[] = [];
  let cursor: string | undefined;
  for (;;) {
    const wanted = limit === undefined ? 1000 : Math.min(1000, limit + 1 - parts.length);
    const options = {
      prefix,
      limit: wanted,
      ...(cursor === undefined
        ? marker > 0
          ? { startAfter: partKey(bucket, uploadId, marker) }
          : {}
        : { cursor }),
      // Honoured at this compatibility date; the default workers-types entry point predates it.
      include: ["customMetadata"],
    };
    const page = await state.list(options as R2ListOptions);
    parts.push(...page.objects.map((object) => partOf(object, prefix)));
    if (limit !== undefined && parts.length > limit) return { parts: parts.slice(0, limit), truncated: true };
    if (!page.truncated) return { parts, truncated: false };
    cursor = page.cursor;
  }
}

/** Removes an upload's records: its parts, then the upload (so a half-done removal can be retried). */
export async function forgetUpload(state: R2Bucket, bucket: string, uploadId: string): Promise<void> {
  const prefix = partsPrefix(bucket, uploadId);
  for (;;) {
    const page = await state.list({ prefix, limit: 1000 });
    if (page.objects.length > 0) await state.delete(page.objects.map((object) => object.key));
    if (!page.truncated) break;
  }
  await state.delete(uploadKey(bucket, uploadId));
}
