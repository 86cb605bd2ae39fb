import { OssError } from "../errors";

/**
 * What R2 does not keep about an object and OSS answers with: its CRC-64 (`x-oss-hash-crc64ecma`).
 *
 * A body that is read whole before it is stored has its CRC in the object's own custom metadata.
 * When the CRC is known only after R2 has the bytes (a streamed PutObject, a completed multipart
 * upload, whose metadata R2 fixes when the upload starts), the object carries a marker instead and
 * the CRC is a record in the OBJECT_STATE bucket, valid for the ETag it names: an object
 * rewritten by another tool never gets a CRC that is not its own.
 */

/** Custom-metadata names of this service, never shown as `x-oss-meta-*` and refused from clients. */
const INTERNAL_PREFIX = "x-oss-internal-";
export const CRC_METADATA = `${INTERNAL_PREFIX}crc64ecma`;
export const CRC_RECORD_METADATA = `${INTERNAL_PREFIX}crc64ecma-record`;

export const CRC_HEADER = "x-oss-hash-crc64ecma";

export const isInternalMetadata = (name: string) => name.startsWith(INTERNAL_PREFIX);

/** User metadata may not use this service's names: it would take the place of a stored CRC. */
export function checkUserMetadata(metadata: Record<string, string>): Record<string, string> {
  for (const name of Object.keys(metadata)) {
    if (isInternalMetadata(name)) {
      throw new OssError(
        "InvalidArgument",
        `x-oss-meta-${name}: user metadata names starting with ${INTERNAL_PREFIX} are reserved here.`,
      );
    }
  }
  return metadata;
}

/** The user's `x-oss-meta-*` of a stored object, without this service's own entries. */
export function userMetadata(object: R2Object): Record<string, string> {
  return Object.fromEntries(
    Object.entries(object.customMetadata ?? {}).filter(([name]) => !isInternalMetadata(name)),
  );
}

const recordKey = (bucket: string, key: string) => `crc64/${bucket}/${key}`;

/** The object's CRC-64 as OSS writes it (unsigned decimal), or undefined when it is not known. */
export async function objectCrc(
  state: R2Bucket,
  bucket: string,
  object: R2Object,
): Promise<string | undefined> {
  const metadata = object.customMetadata ?? {};
  if (metadata[CRC_METADATA] !== undefined) return metadata[CRC_METADATA];
  if (metadata[CRC_RECORD_METADATA] === undefined) return undefined;
  const record = await state.head(recordKey(bucket, object.key));
  const kept = record?.customMetadata;
  return kept?.etag === object.etag ? kept.crc : undefined;
}

/** Keeps the CRC of the object R2 now holds under `key`, for its ETag. */
export async function recordCrc(
  state: R2Bucket,
  bucket: string,
  object: R2Object,
  crc: bigint,
): Promise<void> {
  await state.put(recordKey(bucket, object.key), null, {
    customMetadata: { etag: object.etag, crc: crc.toString() },
  });
}

/** Drops the record of a deleted object (a stale one would never match an ETag, but it would stay). */
export async function forgetCrc(state: R2Bucket, bucket: string, key: string): Promise<void> {
  await state.delete(recordKey(bucket, key));
}
