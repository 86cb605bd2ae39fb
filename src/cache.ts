/**
 * Processed variants live in the Workers Cache API under a synthetic URL on the request's own
 * origin (the cache is per zone). The source ETag is part of the key, so once an object is
 * overwritten no request can reach a variant of its old bytes.
 */
export function variantCacheKey(
  origin: string,
  bucket: string,
  key: string,
  process: string,
  etag: string,
): string {
  const query = new URLSearchParams({ process, etag });
  return `${origin}/.oss-variants/${encodeURIComponent(bucket)}/${encodeURIComponent(key)}?${query}`;
}

/** A stable ETag for one variant: derived from the objects' ETags and the normalised process. */
export async function variantEtag(etags: string, process: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(`${etags}\n${process}`));
  const hex = [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
  return `"${hex.toUpperCase()}"`;
}

/** Edge copies never go stale (the key changes with the source), so they may live long. */
export const EDGE_CACHE_CONTROL = "public, max-age=31536000, immutable";
