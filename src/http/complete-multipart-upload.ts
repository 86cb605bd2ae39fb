import type { QueryParam } from "../auth/canonical";
import type { BucketConfig } from "../config";
import { combineCrc64 } from "../crc64";
import { OssError } from "../errors";
import { encodingTypeElement, keyEncoding } from "./initiate-multipart-upload";
import { findUpload, forgetUpload, listParts, type PartRecord } from "./multipart-state";
import { CRC_HEADER, recordCrc } from "./object-state";
import { escapeXml } from "./xml";

/** R2's rule for the parts of an object: all but the last at least 5 MiB and of one size. */
const R2_MIN_PART_BYTES = 5 * 1024 * 1024;
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

/** R2 refuses to assemble other part layouts; refusing first keeps the upload usable for a retry. */
function checkR2Layout(parts: PartRecord[]): void {
  const first = parts[0].size;
  const last = parts[parts.length - 1].size;
  const uniform = parts.slice(0, -1).every((part) => part.size === first && part.size >= R2_MIN_PART_BYTES);
  if (!uniform || (parts.length > 1 && last > first)) {
    throw new OssError(
      "EntityTooSmall",
      "Parts other than the last must be at least 5 MiB and all of one size (R2 assembles no other layout); the last may be smaller.",
    );
  }
}

/**
 * CompleteMultipartUpload (`POST /<key>?uploadId=<id>`, the part list as XML, or none with
 * `x-oss-complete-all: yes`): R2 assembles the object; its CRC-64 is the parts' CRCs combined
 * (no byte is read again) and is kept as the object's record. Nothing is written on any refusal.
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
  checkR2Layout(parts);

  let crc = 0n;
  for (const part of parts) crc = combineCrc64(crc, part.crc, part.size);
  const object = await bucket.store
    .resumeMultipartUpload(key, upload.r2UploadId)
    .complete(parts.map((part) => ({ partNumber: part.partNumber, etag: part.etag })));
  await recordCrc(state, bucket.name, object, crc);
  await forgetUpload(state, bucket.name, upload.uploadId);

  const location = new URL(request.url);
  location.search = "";
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<CompleteMultipartUploadResult>\n${encodingTypeElement(params)}  <Location>${escapeXml(location.toString())}</Location>\n  <Bucket>${escapeXml(bucket.name)}</Bucket>\n  <Key>${encodeKey(key)}</Key>\n  <ETag>${escapeXml(object.httpEtag)}</ETag>\n</CompleteMultipartUploadResult>\n`;
  return new Response(xml, {
    headers: { "Content-Type": "application/xml", ETag: object.httpEtag, [CRC_HEADER]: crc.toString() },
  });
}
