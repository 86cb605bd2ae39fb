import { OssError } from "../errors";
import { logEvent } from "../log";
import { escapeXml } from "./xml";

/** Renders any error as the OSS XML error body; anything that is not an OssError is a 500. */
export function errorResponse(error: unknown, requestId: string, hostId: string, method: string): Response {
  const oss =
    error instanceof OssError ? error : new OssError("InternalError", "We encountered an internal error.");
  if (error instanceof OssError) {
    logEvent("info", requestId, "oss-error", { code: oss.code, status: oss.status, message: oss.message });
  } else {
    logEvent("error", requestId, "internal-error", {
      error: String(error),
      stack: error instanceof Error ? error.stack : undefined,
    });
  }
  const fields: [string, string][] = [
    ["Code", oss.code],
    ["Message", oss.message],
    ["RequestId", requestId],
    ["HostId", hostId],
  ];
  if (oss.ec) fields.push(["EC", oss.ec]);
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n${fields
    .map(([name, value]) => `  <${name}>${escapeXml(value)}</${name}>`)
    .join("\n")}\n</Error>\n`;
  const headers = new Headers({ "Content-Type": "application/xml", "x-oss-request-id": requestId });
  if (oss.ec) headers.set("x-oss-ec", oss.ec);
  if (method !== "HEAD") return new Response(body, { status: oss.status, headers });
  // A HEAD answer has no body, so OSS sends the error body Base64-encoded in x-oss-err: the SDKs
  // read the code from it (without it oss2 raises a bare NotFound, Java AccessForbidden for any 403).
  headers.set("x-oss-err", base64Utf8(body));
  return new Response(null, { status: oss.status, headers });
}

function base64Utf8(text: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}
