/** One query parameter as sent: `value` is undefined for a bare key (`?x-oss-process`). */
export interface QueryParam {
  readonly key: string;
  readonly value?: string;
}

/** A query string's parameters in order (without the `?`), percent-decoded; a `+` stays a `+`. */
export function parseQuery(query: string): QueryParam[] {
  return query
    .split("&")
    .filter((pair) => pair !== "")
    .map((pair) => {
      const equals = pair.indexOf("=");
      return equals < 0
        ? { key: safeDecode(pair) }
        : { key: safeDecode(pair.slice(0, equals)), value: safeDecode(pair.slice(equals + 1)) };
    });
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * Query parameters that V1 signatures cover ("sub-resources"); everything else in the query is
 * left out of the canonical resource, as OSS and its SDKs do.
 */
const SUB_RESOURCES = new Set([
  "acl",
  "uploads",
  "location",
  "cors",
  "logging",
  "website",
  "referer",
  "lifecycle",
  "delete",
  "append",
  "tagging",
  "objectMeta",
  "uploadId",
  "partNumber",
  "security-token",
  "position",
  "img",
  "style",
  "styleName",
  "replication",
  "replicationProgress",
  "replicationLocation",
  "cname",
  "bucketInfo",
  "comp",
  "qos",
  "live",
  "status",
  "vod",
  "startTime",
  "endTime",
  "symlink",
  "x-oss-process",
  "response-content-type",
  "response-content-language",
  "response-expires",
  "response-cache-control",
  "response-content-disposition",
  "response-content-encoding",
  "udf",
  "udfName",
  "udfImage",
  "udfId",
  "udfImageDesc",
  "udfApplication",
  "udfApplicationLog",
  "restore",
  "callback",
  "callback-var",
  "policy",
  "encryption",
  "versions",
  "versioning",
  "versionId",
  "x-oss-traffic-limit",
  "continuation-token",
  "inventory",
  "inventoryId",
  "worm",
  "wormId",
  "wormExtend",
  "requestPayment",
  "x-oss-request-payer",
  "x-oss-async-process",
]);

/** `/<bucket>/<key>` plus the signed sub-resources, sorted, values as sent but decoded (V1). */
export function canonicalResourceV1(bucket: string, key: string, params: readonly QueryParam[]): string {
  const signed = params.filter((param) => SUB_RESOURCES.has(param.key));
  signed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const query = signed.map((param) => (param.value ? `${param.key}=${param.value}` : param.key)).join("&");
  return `/${bucket}/${key}${query ? `?${query}` : ""}`;
}

/** `x-oss-*` headers, lower-case, sorted, `name:value` each on its own line (V1). */
export function canonicalOssHeadersV1(headers: Headers): string {
  return ossHeaderNames(headers)
    .map((name) => `${name}:${(headers.get(name) ?? "").trim()}\n`)
    .join("");
}

function ossHeaderNames(headers: Headers): string[] {
  const names: string[] = [];
  headers.forEach((_, name) => {
    if (name.toLowerCase().startsWith("x-oss-")) names.push(name.toLowerCase());
  });
  return [...new Set(names)].sort();
}

/** RFC 3986 encoding, as the SDKs' V4 signers use (encodeURIComponent plus `!'()*`). */
export function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** The V4 canonical request (reference §16.3). */
export function canonicalRequestV4(
  method: string,
  bucket: string,
  key: string,
  params: readonly QueryParam[],
  headers: Headers,
  additionalHeaders: readonly string[],
): string {
  const uri = uriEncode(`/${bucket}/${key}`).replace(/%2F/g, "/");
  const query = params
    .filter((param) => param.key !== "x-oss-signature")
    .map((param) => ({
      key: uriEncode(param.key),
      // Empty values are signed as bare keys: the SDKs sign `?x-oss-process` and send `?x-oss-process=`.
      value: param.value ? uriEncode(param.value) : undefined,
    }))
    .sort((a, b) => a.key.localeCompare(b.key))
    .map((param) => (param.value === undefined ? param.key : `${param.key}=${param.value}`))
    .join("&");
  const names = new Set(additionalHeaders);
  headers.forEach((_, name) => {
    const lower = name.toLowerCase();
    if (lower === "content-type" || lower === "content-md5" || lower.startsWith("x-oss-")) names.add(lower);
  });
  const canonicalHeaders = [...names]
    .sort()
    .map((name) => `${name}:${(headers.get(name) ?? "").trim()}\n`)
    .join("");
  return [
    method.toUpperCase(),
    uri,
    query,
    canonicalHeaders,
    additionalHeaders.join(";"),
    headers.get("x-oss-content-sha256") ?? "UNSIGNED-PAYLOAD",
  ].join("\n");
}
