import { OssError } from "../errors";

export interface Validators {
  readonly etag: string;
  readonly lastModified: Date;
}

/**
 * An entity tag as OSS compares them: the weak prefix ignored, the quotes optional (oss2's
 * resumable download sends ETags unquoted), the hex compared as sent.
 */
function opaqueTag(tag: string): string {
  const bare = tag.trim().replace(/^W\//, "");
  return bare.length >= 2 && bare.startsWith('"') && bare.endsWith('"') ? bare.slice(1, -1) : bare;
}

function matchesAny(header: string, etag: string): boolean {
  if (header.trim() === "*") return true;
  const wanted = opaqueTag(etag);
  return header.split(",").some((tag) => opaqueTag(tag) === wanted);
}

/** HTTP dates have one-second precision; compare at that precision. */
const seconds = (date: Date) => Math.floor(date.getTime() / 1000);

function parseDate(value: string | null): number | undefined {
  if (!value) return undefined;
  const time = Date.parse(value);
  return Number.isNaN(time) ? undefined : Math.floor(time / 1000);
}

/**
 * RFC 9110 §13.2.2 order for GET/HEAD: If-Match, If-Unmodified-Since (412), then If-None-Match,
 * If-Modified-Since (304). Returns "not-modified" or undefined; failed preconditions throw.
 */
export function evaluatePreconditions(headers: Headers, validators: Validators): "not-modified" | undefined {
  const ifMatch = headers.get("If-Match");
  if (ifMatch !== null && !matchesAny(ifMatch, validators.etag)) {
    throw new OssError(
      "PreconditionFailed",
      "At least one of the pre-conditions you specified did not hold.",
    );
  }
  const unmodifiedSince = parseDate(headers.get("If-Unmodified-Since"));
  if (
    ifMatch === null &&
    unmodifiedSince !== undefined &&
    seconds(validators.lastModified) > unmodifiedSince
  ) {
    throw new OssError(
      "PreconditionFailed",
      "At least one of the pre-conditions you specified did not hold.",
    );
  }
  const ifNoneMatch = headers.get("If-None-Match");
  if (ifNoneMatch !== null) return matchesAny(ifNoneMatch, validators.etag) ? "not-modified" : undefined;
  const modifiedSince = parseDate(headers.get("If-Modified-Since"));
  if (modifiedSince !== undefined && seconds(validators.lastModified) <= modifiedSince) return "not-modified";
  return undefined;
}

export function notModified(validators: Validators, extra: HeadersInit = {}): Response {
  const headers = new Headers(extra);
  headers.set("ETag", validators.etag);
  headers.set("Last-Modified", validators.lastModified.toUTCString());
  return new Response(null, { status: 304, headers });
}
