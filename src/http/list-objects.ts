import type { QueryParam } from "../auth/canonical";
import type { BucketConfig } from "../config";
import { invalidArgument } from "../errors";
import { objectType } from "./object";
import { escapeXml } from "./xml";

/** OSS's default and largest page. */
const DEFAULT_MAX_KEYS = 100;
const MAX_KEYS = 1000;
const MAX_PREFIX_BYTES = 1024;

/** Who owns every object: R2 has no per-object owner, so one fixed identity, as one account has. */
export const OWNER = { id: "oss-image-worker", displayName: "oss-image-worker" };

/** The query parameters of ListObjects (V1) and ListObjectsV2 (`list-type=2`). */
const LIST_PARAMETERS = new Set([
  "prefix",
  "delimiter",
  "marker",
  "max-keys",
  "encoding-type",
  "list-type",
  "continuation-token",
  "start-after",
  "fetch-owner",
]);

export const isListParameter = (name: string) => LIST_PARAMETERS.has(name);

interface ListRequest {
  readonly v2: boolean;
  readonly prefix: string;
  readonly delimiter: string;
  readonly maxKeys: number;
  readonly urlEncoded: boolean;
  readonly fetchOwner: boolean;
  /** V1 `marker`, V2 `start-after`. */
  readonly marker: string;
  /** V2: as sent, echoed back; its decoded key replaces `start-after`. */
  readonly continuationToken?: string;
}

type Entry =
  | { readonly kind: "object"; readonly object: R2Object }
  | { readonly kind: "prefix"; readonly prefix: string };
const entryName = (entry: Entry) => (entry.kind === "object" ? entry.object.key : entry.prefix);

function parseRequest(params: readonly QueryParam[]): ListRequest {
  const value = (name: string) => params.find((param) => param.key === name)?.value;
  const listType = value("list-type");
  if (listType !== undefined && listType !== "2") throw invalidArgument("list-type must be 2.");
  const v2 = listType === "2";
  const maxKeysText = value("max-keys");
  const maxKeys = maxKeysText === undefined || maxKeysText === "" ? DEFAULT_MAX_KEYS : Number(maxKeysText);
  if (!/^\d*$/.test(maxKeysText ?? "") || !Number.isInteger(maxKeys) || maxKeys < 1 || maxKeys > MAX_KEYS) {
    throw invalidArgument(`max-keys must be an integer from 1 to ${MAX_KEYS}.`);
  }
  const encoding = value("encoding-type");
  if (encoding !== undefined && encoding !== "" && encoding.toLowerCase() !== "url") {
    throw invalidArgument("encoding-type must be url.");
  }
  const prefix = value("prefix") ?? "";
  if (new TextEncoder().encode(prefix).length > MAX_PREFIX_BYTES) {
    throw invalidArgument(`prefix is longer than ${MAX_PREFIX_BYTES} bytes.`);
  }
  const fetchOwner = value("fetch-owner");
  if (fetchOwner !== undefined && fetchOwner !== "true" && fetchOwner !== "false" && fetchOwner !== "") {
    throw invalidArgument("fetch-owner must be true or false.");
  }
  const continuationToken = v2 ? value("continuation-token") : undefined;
  const marker = v2
    ? continuationToken
      ? decodeToken(continuationToken)
      : (value("start-after") ?? "")
    : (value("marker") ?? "");
  return {
    v2,
    prefix,
    delimiter: value("delimiter") ?? "",
    maxKeys,
    urlEncoded: encoding !== undefined && encoding !== "",
    // V1 always names the owner (ali-oss's list() reads Owner.ID of every entry); V2 when asked.
    fetchOwner: !v2 || fetchOwner === "true",
    marker,
    continuationToken: continuationToken || undefined,
  };
}

/** Continuation tokens are opaque to clients: the URL-safe Base64 of the last name a page gave. */
function encodeToken(name: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(name)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function decodeToken(token: string): string {
  try {
    const binary = atob(token.replace(/-/g, "+").replace(/_/g, "/"));
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(
      Uint8Array.from(binary, (c) => c.charCodeAt(0)),
    );
  } catch {
    throw invalidArgument("The continuation-token is not one this service gave.");
  }
}

/** The common prefix a name rolls up into under `delimiter`, or undefined when it is not in one. */
function commonPrefixOf(name: string, prefix: string, delimiter: string): string | undefined {
  if (delimiter === "" || !name.startsWith(prefix)) return undefined;
  const at = name.indexOf(delimiter, prefix.length);
  return at < 0 ? undefined : name.slice(0, at + delimiter.length);
}

/** Sorts as R2 and OSS order keys: by their UTF-8 bytes (code points, not UTF-16 units). */
function compareNames(a: string, b: string): number {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

/**
 * One page: R2 is asked for what comes after the marker until the page is full or the listing
 * ends (R2 may answer a truncated page with fewer entries than asked for). Objects and common
 * prefixes are merged in key order and counted together, as OSS counts max-keys.
 */
async function listPage(
  store: R2Bucket,
  request: ListRequest,
): Promise<{ entries: Entry[]; truncated: boolean }> {
  const { prefix, delimiter, maxKeys, marker } = request;
  // A marker that is itself a common prefix (a page ended on it) would roll the keys under it
  // into the same prefix again, and the client's iterator would loop on it forever: start after
  // everything that begins with it instead.
  const markerPrefix = commonPrefixOf(marker, prefix, delimiter);
  const startAfter = markerPrefix === marker ? `${marker}\u{10FFFF}` : marker;
  const entries = new Map<string, Entry>();
  let cursor: string | undefined;
  let truncated = false;
  do {
    const page = await store.list({
      prefix,
      delimiter: delimiter || undefined,
      limit: Math.min(MAX_KEYS, maxKeys + 1),
      ...(cursor === undefined ? (startAfter === "" ? {} : { startAfter }) : { cursor }),
    });
    for (const object of page.objects) entries.set(object.key, { kind: "object", object });
    for (const common of page.delimitedPrefixes) entries.set(common, { kind: "prefix", prefix: common });
    truncated = page.truncated;
    cursor = page.truncated ? page.cursor : undefined;
  } while (truncated && entries.size <= maxKeys);
  const sorted = [...entries.values()]
    .filter((entry) => compareNames(entryName(entry), marker) > 0)
    .sort((a, b) => compareNames(entryName(a), entryName(b)));
  if (sorted.length > maxKeys) return { entries: sorted.slice(0, maxKeys), truncated: true };
  return { entries: sorted, truncated };
}

/** ListObjects / ListObjectsV2 (`GET /` of a bucket): OSS's ListBucketResult XML. */
export async function listObjects(bucket: BucketConfig, params: readonly QueryParam[]): Promise<Response> {
  const request = parseRequest(params);
  const { entries, truncated } = await listPage(bucket.store, request);
  const text = (value: string) => escapeXml(request.urlEncoded ? encodeURIComponent(value) : value);
  const element = (name: string, value: string) => `  <${name}>${value}</${name}>`;
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>', "<ListBucketResult>"];
  lines.push(element("Name", escapeXml(bucket.name)), element("Prefix", text(request.prefix)));
  if (request.v2) {
    if (request.continuationToken)
      lines.push(element("ContinuationToken", escapeXml(request.continuationToken)));
    else if (request.marker) lines.push(element("StartAfter", text(request.marker)));
  } else {
    lines.push(element("Marker", text(request.marker)));
  }
  lines.push(element("MaxKeys", String(request.maxKeys)));
  if (request.delimiter) lines.push(element("Delimiter", text(request.delimiter)));
  if (request.urlEncoded) lines.push(element("EncodingType", "url"));
  lines.push(element("IsTruncated", String(truncated)));
  const last = entries.at(-1);
  if (truncated && last) {
    lines.push(
      request.v2
        ? element("NextContinuationToken", encodeToken(entryName(last)))
        : element("NextMarker", text(entryName(last))),
    );
  }
  if (request.v2) lines.push(element("KeyCount", String(entries.length)));
  for (const entry of entries) {
    if (entry.kind === "prefix") {
      lines.push(`  <CommonPrefixes>\n    <Prefix>${text(entry.prefix)}</Prefix>\n  </CommonPrefixes>`);
      continue;
    }
    const { object } = entry;
    const owner = request.fetchOwner
      ? `\n    <Owner>\n      <ID>${OWNER.id}</ID>\n      <DisplayName>${OWNER.displayName}</DisplayName>\n    </Owner>`
      : "";
    lines.push(
      [
        "  <Contents>",
        `    <Key>${text(object.key)}</Key>`,
        `    <LastModified>${object.uploaded.toISOString()}</LastModified>`,
        `    <ETag>${escapeXml(object.httpEtag)}</ETag>`,
        `    <Type>${objectType(object)}</Type>`,
        `    <Size>${object.size}</Size>`,
        `    <StorageClass>Standard</StorageClass>${owner}`,
        "  </Contents>",
      ].join("\n"),
    );
  }
  lines.push("</ListBucketResult>", "");
  return new Response(lines.join("\n"), { headers: { "Content-Type": "application/xml" } });
}
