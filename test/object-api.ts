// Helpers of the listing, multipart and CRC tests: signed requests with sub-resources, XML fields.
import { request, signedV1 } from "./helpers";

export { referenceCrc64 } from "./crc64-reference";

/** V1 signatures cover these query parameters (the rest of the query is not signed). */
const SIGNED = new Set(["acl", "uploads", "uploadId", "partNumber", "continuation-token"]);

export const encodePath = (key: string) => key.split("/").map(encodeURIComponent).join("/");

/**
 * A V1-signed request of `/<bucket>/<key>?<query>`: `query` values undefined are bare keys
 * (`?uploads`). The canonical resource holds the signed sub-resources, sorted, as the SDKs sign.
 */
export async function signed(
  method: string,
  bucket: string,
  key: string,
  query: Record<string, string | undefined> = {},
  init: RequestInit = {},
): Promise<Response> {
  const entries = Object.entries(query);
  const search = entries
    .map(([name, value]) => (value === undefined ? name : `${name}=${encodeURIComponent(value)}`))
    .join("&");
  const subResources = entries
    .filter(([name]) => SIGNED.has(name))
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, value]) => (value === undefined ? name : `${name}=${value}`))
    .join("&");
  const resource = `/${bucket}/${key}${subResources ? `?${subResources}` : ""}`;
  // fetch gives a string body this Content-Type; the signature must cover the one sent.
  const headers = new Headers(init.headers);
  if (typeof init.body === "string" && !headers.has("Content-Type")) {
    headers.set("Content-Type", "text/plain;charset=UTF-8");
  }
  init = { ...init, headers };
  const path = `/${bucket}/${encodePath(key)}${search ? `?${search}` : ""}`;
  return request(path, await signedV1(method, resource, init));
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
const decode = (text: string) => text.replace(/&(\w+);/g, (_, name: string) => ENTITIES[name]);

/** Every `<name>…</name>` text in order (simple elements only). */
export const fields = (xml: string, name: string): string[] =>
  [...xml.matchAll(new RegExp(`<${name}>([^<]*)</${name}>`, "g"))].map((match) => decode(match[1]));

export const field = (xml: string, name: string): string | undefined => fields(xml, name)[0];

/** Each `<name>…</name>` block's inner XML. */
export const blocks = (xml: string, name: string): string[] =>
  [...xml.matchAll(new RegExp(`<${name}>([\\s\\S]*?)</${name}>`, "g"))].map((match) => match[1]);

/** Bytes that differ everywhere, so a misplaced or missing chunk changes the CRC. */
export function patternBytes(length: number, seed = 1): Uint8Array {
  const bytes = new Uint8Array(length);
  let x = seed >>> 0;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}
