import { OssError } from "../errors";

export interface ByteRange {
  readonly offset: number;
  readonly length: number;
}

/**
 * A single `bytes=` range against an object of `size` bytes. Like OSS, a header that is malformed
 * or asks for several ranges is ignored (the whole object is sent); a range that starts past the
 * end is 416 InvalidRange.
 */
export function parseRange(header: string | null, size: number): ByteRange | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === "" && match[2] === "")) return undefined;
  if (match[1] === "") {
    const suffix = Number(match[2]);
    if (suffix === 0) throw invalidRange(size);
    const length = Math.min(suffix, size);
    return { offset: size - length, length };
  }
  const start = Number(match[1]);
  const end = match[2] === "" ? size - 1 : Number(match[2]);
  if (end < start) return undefined;
  if (start >= size) throw invalidRange(size);
  return { offset: start, length: Math.min(end, size - 1) - start + 1 };
}

function invalidRange(size: number): OssError {
  return new OssError("InvalidRange", `The requested range is not satisfiable (object size ${size}).`);
}
