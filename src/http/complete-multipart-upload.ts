import type { QueryParam } from "../auth/canonical";
import type { BucketConfig } from "../config";
import { combineCrc64 } from "../crc64";
import { OssError } from "../errors";
import { encodingTypeElement, keyEncoding } from "./initiate-multipart-upload";
import {
  findUpload,
  forgetUpload,
  listParts,
  type PartRecord,
  stagedBytes,
  type UploadRecord,
  uploadMetadata,
} from "./multipart-state";
import { CRC_HEADER, CRC_METADATA, recordCrc } from "./object-state";
import { R2_MIN_PART_BYTES } from "./upload-part";
import { escapeXml } from "./xml";

/** A request body of 10,000 parts is under 1 MB; anything much larger is not a part list. */
const MAX_BODY_BYTES = 2 * 1024 * 1024;

const malformed = () =>
  new OssError("MalformedXML", "The XML you provided was not well-formed or did not validate.");

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
const decodeXml = (text: string) =>
  text.replace(/&(amp|lt|gt|quot|apos);/g, (_, name: string) => ENTITIES[name]).trim();

/** An ETag as clients send it back: quotes optional, `W/` ignored. */
const bareEtag = (etag: string) => etag.replace(/^W\//, "").replace(/^"(.*)"$/, "$1");

/** `<CompleteMultipartUpload><Part><PartNumber>n</PartNumber><ETag>"…"</ETag></Part>…` */
function parsePartList(body: string): { partNumber: number; etag: string }[] {
  const root =
    /^\s*(?:<\?xml[^>]*\?>\s*)?<CompleteMultipartUpload(?:\s[^>]*)?>([\s\S]*)<\/CompleteMultipartUpload>\s*$/.exec(
      body,
    );
  if (!root) throw malformed();
  const parts: { partNumber: number; etag: string }[] = [];
  const rest = root[1].replace(/<Part>([\s\S]*?)<\/Part>/g, (_, inner: string) => {
    const number = /<PartNumber>\s*(\d{1,5})\s*<\/PartNumber>/.exec(inner);
    const etag = /<ETag>([^<]*)<\/ETag>/.exec(inner);
    if (!number || !etag) throw malformed();
    parts.push({ partNumber: Number(number[1]), etag: bareEtag(decodeXml(etag[1])) });
    return "";
  });
  if (rest.trim() !== "" || parts.length === 0) throw malformed();
  return parts;
}

/** The parts the request names, checked against what was uploaded, as OSS checks them. */
function selectParts(named: { partNumber: number; etag: string }[], uploaded: PartRecord[]): PartRecord[] {
  const byNumber = new Map(uploaded.map((part) => [part.partNumber, part]));
  return named.map(({ partNumber, etag }, i) => {
    if (i > 0 && partNumber <= named[i - 1].partNumber) {
      throw new OssError("InvalidPartOrder", "The list of parts was not in ascending order.");
    }
    const part = byNumber.get(partNumber);
    if (!part || part.etag !== etag) {
      throw new OssError(
        "InvalidPart",
        `Part ${partNumber} was not uploaded, or its ETag is not the one the upload answered.`,
      );
    }
    return part;
  });
}

/** R2's single put takes at most 5 GiB less 5 MiB: what parts staged here can be assembled into. */
const MAX_ASSEMBLED_BYTES = 5 * 1024 * 1024 * 1024 - R2_MIN_PART_BYTES;

/**
 * How the object is made. R2 assembles its own parts when all but the last are one size of at
 * least 5 MiB; a staged last part (under 5 MiB) is handed to R2 first. Parts all staged (an SDK's
 * small default part size) are written as one object. Other layouts cannot be made from what R2
 * and the staging hold, and are refused before anything is written, the upload left usable.
 */
function plan(parts: PartRecord[]): "r2" | "assemble" {
  const body = parts.slice(0, -1);
  const last = parts[parts.length - 1];
  const size = parts[0].size;
  if (body.every((part) => !part.staged && part.size === size) && (body.length === 0 || last.size <= size)) {
    return "r2";
  }
  if (parts.every((part) => part.staged)) {
    const total = parts.reduce((sum, part) => sum + part.size, 0);
    if (total > MAX_ASSEMBLED_BYTES) {
      throw new OssError(
        "EntityTooLarge",
        "Parts under 5 MiB are assembled into objects of at most 5 GiB here.",
      );
    }
    return "assemble";
  }
  throw new OssError(
    "EntityTooSmall",
    "Parts other than the last must be all of one size, either all at least 5 MiB or all under it (R2 assembles no other layout).",
  );
}

/** R2 assembles the object from its parts, a staged last part uploaded to it first. */
async function completeInR2(
  bucket: BucketConfig,
  state: R2Bucket,
  upload: UploadRecord,
  parts: PartRecord[],
): Promise<R2Object> {
  const r2Upload = bucket.store.resumeMultipartUpload(upload.key, upload.r2UploadId);
  const uploaded: R2UploadedPart[] = [];
  for (const part of parts) {
    if (!part.staged) {
      uploaded.push({ partNumber: part.partNumber, etag: part.etag });
      continue;
    }
    const staged = await stagedBytes(state, bucket.name, upload.uploadId, part.partNumber);
    uploaded.push(await r2Upload.uploadPart(part.partNumber, await staged.arrayBuffer()));
  }
  return r2Upload.complete(uploaded);
}

/**
 * Staged parts streamed one after another into one put, with the metadata the upload started
 * with and the combined CRC (known before the bytes are written, so kept with the object).
 */
async function assemble(
  bucket: BucketConfig,
  state: R2Bucket,
  upload: UploadRecord,
  parts: PartRecord[],
  crc: bigint,
): Promise<R2Object> {
  const metadata = await uploadMetadata(state, bucket.name, upload.uploadId);
  const total = parts.reduce((sum, part) => sum + part.size, 0);
  const { readable, writable } = new FixedLengthStream(total);
  const feeding = (async () => {
    for (const [i, part] of parts.entries()) {
      const staged = await stagedBytes(state, bucket.name, upload.uploadId, part.partNumber);
      await staged.body.pipeTo(writable, { preventClose: i < parts.length - 1 });
    }
  })();
  feeding.catch(() => {});
  const object = await bucket.store.put(upload.key, readable, {
    httpMetadata: metadata.httpMetadata,
    customMetadata: { ...metadata.customMetadata, [CRC_METADATA]: crc.toString() },
  });
  await feeding;
  // R2's own upload of the object took no part: dropped so it holds nothing.
  await bucket.store.resumeMultipartUpload(upload.key, upload.r2UploadId).abort();
  return object;
}

/**
 * CompleteMultipartUpload (`POST /<key>?uploadId=<id>`, the part list as XML, or none with
 * `x-oss-complete-all: yes`): the object is made from the parts (see `plan`); its CRC-64 is the
 * parts' CRCs combined, no byte read for it. Nothing is written on any refusal.
 */
export async function completeMultipartUpload(
  bucket: BucketConfig,
  state: R2Bucket,
  key: string,
  request: Request,
  params: readonly QueryParam[],
): Promise<Response> {
  const encodeKey = keyEncoding(params);
  const uploadId = params.find((param) => param.key === "uploadId")?.value;
  const upload = await findUpload(state, bucket.name, key, uploadId);
  const completeAll = (request.headers.get("x-oss-complete-all") ?? "").trim().toLowerCase() === "yes";
  const body = await request.text();
  if (body.length > MAX_BODY_BYTES) throw malformed();
  const { parts: uploaded } = await listParts(state, bucket.name, upload.uploadId);
  let parts: PartRecord[];
  if (completeAll) {
    if (body.trim() !== "") {
      throw new OssError("InvalidArgument", "With x-oss-complete-all: yes the request has no part list.");
    }
    if (uploaded.length === 0) throw malformed();
    parts = uploaded;
  } else {
    parts = selectParts(parsePartList(body), uploaded);
  }
  const how = plan(parts);

  let crc = 0n;
  for (const part of parts) crc = combineCrc64(crc, part.crc, part.size);
  let object: R2Object;
  if (how === "r2") {
    object = await completeInR2(bucket, state, upload, parts);
    await recordCrc(state, bucket.name, object, crc);
  } else {
    object = await assemble(bucket, state, upload, parts, crc);
  }
  await forgetUpload(state, bucket.name, upload.uploadId);

  const location = new URL(request.url);
  location.search = "";
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<CompleteMultipartUploadResult>\n${encodingTypeElement(params)}  <Location>${escapeXml(location.toString())}</Location>\n  <Bucket>${escapeXml(bucket.name)}</Bucket>\n  <Key>${encodeKey(key)}</Key>\n  <ETag>${escapeXml(object.httpEtag)}</ETag>\n</CompleteMultipartUploadResult>\n`;
  return new Response(xml, {
    headers: { "Content-Type": "application/xml", ETag: object.httpEtag, [CRC_HEADER]: crc.toString() },
  });
}
