import { badRequest } from "../errors";

const notBase64 = () => badRequest("Input is not base64 decoding.");

/**
 * OSS parameters such as `image_`, `text_`, `type_`, `o_` and `b_` are Base64: URL-safe or standard,
 * padded or not, as the official SDKs send both (Decision 11).
 */
export function decodeBase64(value: string): Uint8Array {
  const standard = value.replace(/-/g, "+").replace(/_/g, "/").replace(/=+$/, "");
  if (standard === "" || !/^[A-Za-z0-9+/]*$/.test(standard) || standard.length % 4 === 1) throw notBase64();
  try {
    return Uint8Array.from(atob(standard + "=".repeat((4 - (standard.length % 4)) % 4)), (c) =>
      c.charCodeAt(0),
    );
  } catch {
    throw notBase64();
  }
}

/** Base64 of UTF-8 text; text that is not valid UTF-8 is refused the same way. */
export function decodeBase64Text(value: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(decodeBase64(value));
  } catch (error) {
    if (error instanceof TypeError) throw notBase64();
    throw error;
  }
}
