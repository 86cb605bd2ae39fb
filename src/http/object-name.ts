import { OssError } from "../errors";
import { REQUEST_LIMITS } from "../limits";

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/**
 * OSS object names: 1 to 1,023 bytes of UTF-8, not starting with `/` or `\`. Control characters
 * (NUL, line breaks…) are refused too: no client needs them, and they would reach logs and headers.
 */
export function checkObjectName(key: string): void {
  const bytes = new TextEncoder().encode(key).length;
  if (bytes === 0 || bytes > REQUEST_LIMITS.keyBytes) {
    throw new OssError("InvalidObjectName", `Object names are 1 to ${REQUEST_LIMITS.keyBytes} bytes long.`);
  }
  if (key.startsWith("/") || key.startsWith("\\")) {
    throw new OssError("InvalidObjectName", "Object names cannot start with / or \\.");
  }
  if (CONTROL_CHARACTERS.test(key)) {
    throw new OssError("InvalidObjectName", "Object names cannot contain control characters.");
  }
}
