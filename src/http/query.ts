import { OssError } from "../errors";

/**
 * Reads one query parameter the way OSS does: percent-decoding only. URLSearchParams would turn
 * `+` into a space, which breaks standard Base64 in process strings.
 */
export function queryParam(url: URL, name: string): string | undefined {
  for (const pair of url.search.slice(1).split("&")) {
    const equals = pair.indexOf("=");
    const rawName = equals < 0 ? pair : pair.slice(0, equals);
    if (decode(rawName) !== name) continue;
    return equals < 0 ? "" : decode(pair.slice(equals + 1));
  }
  return undefined;
}

function decode(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new OssError("InvalidURI", "Could not parse the specified URI.");
  }
}
