import { format } from "../actions/format";
import type { ImageFormat } from "../image/format";
import type { ParsedProcess } from "../process/parse";
import { bindAction } from "../process/types";

/**
 * Format negotiation (Decision 22: not an OSS feature; a bucket opts in with `negotiate_format`).
 * A processed request whose process string (or style) names no `format` is answered as AVIF when
 * its Accept lists image/avif, else as WebP when it lists image/webp, else as OSS would. Only
 * types the client names count: `image/*` and `*\/*` do not say a browser can show AVIF, and a
 * type with q=0 is refused, as RFC 9110 says.
 */

/** What the Accept header allows: the cache keys the variant by it, so every client gets its own. */
export type AcceptClass = "avif" | "webp" | "other";

/** The formats to try, best first, for an Accept class. */
const CANDIDATES: Record<AcceptClass, readonly ImageFormat[]> = {
  avif: ["avif", "webp"],
  webp: ["webp"],
  other: [],
};

/** Media types of an Accept header with a q above zero. */
function acceptedTypes(accept: string | null): Set<string> {
  const types = new Set<string>();
  for (const range of (accept ?? "").split(",")) {
    const [type, ...parameters] = range.split(";").map((part) => part.trim().toLowerCase());
    if (!type) continue;
    const q = parameters.find((parameter) => parameter.startsWith("q="));
    if (q !== undefined && !(Number(q.slice(2)) > 0)) continue;
    types.add(type);
  }
  return types;
}

export function acceptClass(accept: string | null): AcceptClass {
  const types = acceptedTypes(accept);
  return types.has("image/avif") ? "avif" : types.has("image/webp") ? "webp" : "other";
}

/** A negotiated request: its Accept class (for the cache key) and the formats to try in order. */
export interface Negotiation {
  readonly accept: AcceptClass;
  readonly candidates: readonly ImageFormat[];
}

/**
 * Whether a request negotiates: the bucket opts in, and the process names no format and answers
 * with an image (info and average-hue answer JSON). Undefined: answered exactly as OSS would.
 */
export function negotiation(
  enabled: boolean,
  process: ParsedProcess,
  accept: string | null,
): Negotiation | undefined {
  if (!enabled) return undefined;
  const names = process.actions.map((action) => action.name);
  if (names.includes("format") || process.actions.some((action) => action.kind === "report"))
    return undefined;
  const accepted = acceptClass(accept);
  return { accept: accepted, candidates: CANDIDATES[accepted] };
}

/**
 * The formats a negotiated request may be answered in, for its source: an animated source that
 * stays animated through the process never becomes AVIF (this service writes no AVIF sequences),
 * so it becomes animated WebP, or keeps its format.
 */
export function candidatesFor(
  negotiated: Negotiation,
  process: ParsedProcess,
  frames: number,
): readonly ImageFormat[] {
  const staysAnimated =
    frames > 1 && process.actions.every((action) => action.kind !== "step" || action.keepsAnimation);
  return staysAnimated
    ? negotiated.candidates.filter((candidate) => candidate !== "avif")
    : negotiated.candidates;
}

/** The process with `format,<name>` appended: what a negotiated request runs. */
export function withFormat(process: ParsedProcess, name: ImageFormat): ParsedProcess {
  return {
    ...process,
    actions: [...process.actions, bindAction(format, name)],
    normalized: `${process.normalized}/format,${name}`,
  };
}
