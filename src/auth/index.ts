import { OssError } from "../errors";
import { canonicalOssHeadersV1, canonicalRequestV4, canonicalResourceV1, type QueryParam } from "./canonical";
import { hmacSha1, hmacSha256, sameSignature, sha256Hex, toBase64, toHex } from "./crypto";

/** Who is calling: an access key that signed the request, or nobody (anonymous). */
export interface Caller {
  readonly accessKeyId?: string;
}

export interface SignedRequest {
  readonly method: string;
  readonly headers: Headers;
  readonly params: readonly QueryParam[];
  /** The bucket and key the signature covers: `/<bucket>/<key>`. */
  readonly bucket: string;
  readonly key: string;
}

const MAX_SKEW_MS = 15 * 60 * 1000;
const MAX_V4_EXPIRES = 604_800;
const V4_ALGORITHM = "OSS4-HMAC-SHA256";

const accessDenied = (message: string, ec?: string) => new OssError("AccessDenied", message, ec);
const mismatch = () =>
  new OssError(
    "SignatureDoesNotMatch",
    "The request signature we calculated does not match the signature you provided.",
  );

/**
 * Verifies whichever of the four OSS signature forms the request carries (reference §16): V1 or
 * V4, in the Authorization header or in the query. A request that carries none is anonymous.
 */
export async function authenticate(
  request: SignedRequest,
  keys: ReadonlyMap<string, string>,
  now = Date.now(),
): Promise<Caller> {
  const authorization = request.headers.get("Authorization");
  const param = (name: string) => request.params.find((p) => p.key === name)?.value;
  if (authorization?.startsWith(`${V4_ALGORITHM} `)) return verifyV4Header(request, authorization, keys, now);
  if (authorization?.startsWith("OSS ")) return verifyV1Header(request, authorization, keys, now);
  if (param("x-oss-signature") !== undefined || param("x-oss-signature-version") !== undefined) {
    return verifyV4Query(request, keys, now);
  }
  if (
    param("Signature") !== undefined ||
    param("OSSAccessKeyId") !== undefined ||
    param("Expires") !== undefined
  ) {
    return verifyV1Query(request, keys, now);
  }
  if (authorization) throw accessDenied("The Authorization header is not in a form OSS accepts.");
  return {};
}

function secretOf(keys: ReadonlyMap<string, string>, accessKeyId: string): string {
  const secret = keys.get(accessKeyId);
  if (!secret)
    throw new OssError(
      "InvalidAccessKeyId",
      "The OSS Access Key Id you provided does not exist in our records.",
    );
  return secret;
}

function checkSkew(time: number, now: number): void {
  if (Number.isNaN(time)) throw accessDenied("The request time is missing or invalid.");
  if (Math.abs(now - time) > MAX_SKEW_MS) {
    throw new OssError(
      "RequestTimeTooSkewed",
      "The difference between the request time and the current time is too large.",
    );
  }
}

/** `VERB \n Content-MD5 \n Content-Type \n <date or expires> \n x-oss-headers resource` */
function stringToSignV1(request: SignedRequest, dateOrExpires: string): string {
  const { headers } = request;
  return [
    request.method.toUpperCase(),
    headers.get("Content-MD5") ?? "",
    headers.get("Content-Type") ?? "",
    dateOrExpires,
    canonicalOssHeadersV1(headers) + canonicalResourceV1(request.bucket, request.key, request.params),
  ].join("\n");
}

async function verifyV1Header(
  request: SignedRequest,
  authorization: string,
  keys: ReadonlyMap<string, string>,
  now: number,
): Promise<Caller> {
  const match = /^OSS ([^:]+):(.+)$/.exec(authorization);
  if (!match) throw accessDenied("The Authorization header is malformed.");
  const [, accessKeyId, signature] = match;
  const secret = secretOf(keys, accessKeyId);
  const date = request.headers.get("Date");
  const ossDate = request.headers.get("x-oss-date");
  checkSkew(Date.parse(ossDate ?? date ?? ""), now);
  // The SDKs put the time in x-oss-date and sign it in the Date line when they send no Date header.
  for (const dateLine of new Set([date, ossDate].filter((value): value is string => value !== null))) {
    const expected = toBase64(await hmacSha1(secret, stringToSignV1(request, dateLine)));
    if (sameSignature(expected, signature)) return { accessKeyId };
  }
  throw mismatch();
}

async function verifyV1Query(
  request: SignedRequest,
  keys: ReadonlyMap<string, string>,
  now: number,
): Promise<Caller> {
  const param = (name: string) => request.params.find((p) => p.key === name)?.value;
  const accessKeyId = param("OSSAccessKeyId");
  const expires = param("Expires");
  const signature = param("Signature");
  if (!accessKeyId || !expires || !signature) {
    throw accessDenied(
      "Query-string authentication requires the Signature, Expires and OSSAccessKeyId parameters",
    );
  }
  if (!/^\d+$/.test(expires)) throw accessDenied("Invalid Expires.", "0002-00000070");
  if (Number(expires) * 1000 < now) throw accessDenied("Request has expired.");
  const secret = secretOf(keys, accessKeyId);
  const expected = toBase64(await hmacSha1(secret, stringToSignV1(request, expires)));
  if (!sameSignature(expected, signature)) throw mismatch();
  return { accessKeyId };
}

/** `AK/yyyymmdd/region/oss/aliyun_v4_request` */
function parseCredential(credential: string): { accessKeyId: string; day: string; region: string } {
  const parts = credential.split("/");
  if (
    parts.length !== 5 ||
    parts[3] !== "oss" ||
    parts[4] !== "aliyun_v4_request" ||
    !/^\d{8}$/.test(parts[1])
  ) {
    throw accessDenied("The credential is malformed.", "0002-00000218");
  }
  return { accessKeyId: parts[0], day: parts[1], region: parts[2] };
}

/** `yyyymmddThhmmssZ` to milliseconds. */
function parseV4Date(value: string | undefined): number {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value ?? "");
  if (!match) return Number.NaN;
  const [, y, mo, d, h, mi, s] = match.map(Number);
  return Date.UTC(y, mo - 1, d, h, mi, s);
}

async function signatureV4(
  secret: string,
  credential: { day: string; region: string },
  date: string,
  canonicalRequest: string,
): Promise<string> {
  const scope = `${credential.day}/${credential.region}/oss/aliyun_v4_request`;
  const stringToSign = [V4_ALGORITHM, date, scope, await sha256Hex(canonicalRequest)].join("\n");
  const dateKey = await hmacSha256(new TextEncoder().encode(`aliyun_v4${secret}`), credential.day);
  const regionKey = await hmacSha256(dateKey, credential.region);
  const serviceKey = await hmacSha256(regionKey, "oss");
  const signingKey = await hmacSha256(serviceKey, "aliyun_v4_request");
  return toHex(await hmacSha256(signingKey, stringToSign));
}

async function verifyV4Header(
  request: SignedRequest,
  authorization: string,
  keys: ReadonlyMap<string, string>,
  now: number,
): Promise<Caller> {
  const fields = new Map(
    authorization
      .slice(V4_ALGORITHM.length + 1)
      .split(/,\s*/)
      .map((field) => {
        const equals = field.indexOf("=");
        return [field.slice(0, equals).trim(), field.slice(equals + 1).trim()] as const;
      }),
  );
  const credential = parseCredential(fields.get("Credential") ?? "");
  const signature = fields.get("Signature");
  if (!signature) throw accessDenied("The Authorization header has no Signature.");
  const { date, time } = v4RequestTime(request.headers);
  checkSkew(time, now);
  if (utcDay(time) !== credential.day) throw accessDenied("The request time is not the credential's day.");
  return checkV4(request, keys, credential, date, fields.get("AdditionalHeaders"), signature);
}

/**
 * The time a V4 header signature signs: x-oss-date (ISO basic) or, when there is none, Date
 * (HTTP-date): the Go SDK v3 sends only Date and signs its exact text as the string-to-sign's time.
 */
function v4RequestTime(headers: Headers): { date: string; time: number } {
  const ossDate = headers.get("x-oss-date");
  if (ossDate !== null) return { date: ossDate, time: parseV4Date(ossDate) };
  const date = headers.get("Date") ?? "";
  return { date, time: parseHttpDate(date) };
}

/** An IMF-fixdate (`Tue, 01 Dec 2026 10:00:00 GMT`, RFC 9110 §5.6.7) to milliseconds. */
function parseHttpDate(value: string): number {
  if (!/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(value)) return Number.NaN;
  return Date.parse(value);
}

/** `yyyymmdd` of a time, in UTC. */
const utcDay = (time: number) => new Date(time).toISOString().slice(0, 10).replaceAll("-", "");

async function verifyV4Query(
  request: SignedRequest,
  keys: ReadonlyMap<string, string>,
  now: number,
): Promise<Caller> {
  const param = (name: string) => request.params.find((p) => p.key === name)?.value;
  if (param("x-oss-signature-version") !== V4_ALGORITHM) {
    throw accessDenied(`x-oss-signature-version must be ${V4_ALGORITHM}.`);
  }
  const signature = param("x-oss-signature");
  if (!signature) throw accessDenied("x-oss-signature is missing.");
  const credentialText = param("x-oss-credential");
  if (!credentialText) throw accessDenied("x-oss-credential is missing.", "0002-00000217");
  const credential = parseCredential(credentialText);
  const date = param("x-oss-date") ?? "";
  const signedAt = parseV4Date(date);
  if (Number.isNaN(signedAt) || !date.startsWith(credential.day))
    throw accessDenied("x-oss-date is invalid.");
  const expiresText = param("x-oss-expires");
  if (!expiresText) throw accessDenied("x-oss-expires is missing.", "0002-00000215");
  const expires = Number(expiresText);
  if (!/^\d+$/.test(expiresText) || expires < 1 || expires > MAX_V4_EXPIRES) {
    throw accessDenied(`x-oss-expires must be 1 to ${MAX_V4_EXPIRES} seconds.`);
  }
  if (signedAt + expires * 1000 < now) throw accessDenied("Request has expired.");
  if (signedAt - now > MAX_SKEW_MS)
    throw new OssError("RequestTimeTooSkewed", "x-oss-date is in the future.");
  return checkV4(request, keys, credential, date, param("x-oss-additional-headers"), signature);
}

/** The part both V4 forms share: recompute the signature over the canonical request and compare. */
async function checkV4(
  request: SignedRequest,
  keys: ReadonlyMap<string, string>,
  credential: { accessKeyId: string; day: string; region: string },
  date: string,
  additionalHeaders: string | undefined,
  signature: string,
): Promise<Caller> {
  const secret = secretOf(keys, credential.accessKeyId);
  const additional = (additionalHeaders ?? "").split(";").filter((name) => name !== "");
  const { method, bucket, key, params, headers } = request;
  const canonical = canonicalRequestV4(method, bucket, key, params, headers, additional);
  if (!sameSignature(await signatureV4(secret, credential, date, canonical), signature)) throw mismatch();
  return { accessKeyId: credential.accessKeyId };
}
