import type { QueryParam } from "../auth/canonical";
import type { BucketConfig } from "../config";
import { invalidArgument } from "../errors";
import { encodingTypeElement, keyEncoding } from "./initiate-multipart-upload";
import { findUpload, listParts as listPartRecords, MAX_PART_NUMBER } from "./multipart-state";
import { escapeXml } from "./xml";

const MAX_PARTS = 1000;

function integerParam(
  params: readonly QueryParam[],
  name: string,
  min: number,
  max: number,
  fallback: number,
) {
  const text = params.find((param) => param.key === name)?.value;
  if (text === undefined || text === "") return fallback;
  const value = /^\d{1,6}$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= min && value <= max))
    throw invalidArgument(`${name} must be an integer from ${min} to ${max}.`);
  return value;
}

/**
 * ListParts (`GET /<key>?uploadId=<id>`): the parts uploaded so far in part-number order, paged by
 * `max-parts` and `part-number-marker` with `NextPartNumberMarker`, each with its LastModified,
 * ETag, CRC-64 and size (oss2's resumable upload calls it right after initiating).
 */
export async function listParts(
  bucket: BucketConfig,
  state: R2Bucket,
  key: string,
  params: readonly QueryParam[],
): Promise<Response> {
  const encodeKey = keyEncoding(params);
  const uploadId = params.find((param) => param.key === "uploadId")?.value;
  const maxParts = integerParam(params, "max-parts", 1, MAX_PARTS, MAX_PARTS);
  const marker = integerParam(params, "part-number-marker", 0, MAX_PART_NUMBER, 0);
  const upload = await findUpload(state, bucket.name, key, uploadId);
  const { parts, truncated } = await listPartRecords(state, bucket.name, upload.uploadId, marker, maxParts);
  const next = parts.at(-1)?.partNumber ?? marker;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    "<ListPartsResult>",
    `${encodingTypeElement(params)}  <Bucket>${escapeXml(bucket.name)}</Bucket>`,
    `  <Key>${encodeKey(key)}</Key>`,
    `  <UploadId>${upload.uploadId}</UploadId>`,
    `  <PartNumberMarker>${marker}</PartNumberMarker>`,
    `  <NextPartNumberMarker>${next}</NextPartNumberMarker>`,
    `  <MaxParts>${maxParts}</MaxParts>`,
    `  <IsTruncated>${truncated}</IsTruncated>`,
  ];
  for (const part of parts) {
    lines.push(
      "  <Part>",
      `    <PartNumber>${part.partNumber}</PartNumber>`,
      `    <LastModified>${part.lastModified.toISOString()}</LastModified>`,
      `    <ETag>"${escapeXml(part.etag)}"</ETag>`,
      `    <HashCrc64ecma>${part.crc}</HashCrc64ecma>`,
      `    <Size>${part.size}</Size>`,
      "  </Part>",
    );
  }
  lines.push("</ListPartsResult>", "");
  return new Response(lines.join("\n"), { headers: { "Content-Type": "application/xml" } });
}
