import type { BucketConfig, ServiceConfig } from "../config";
import { OssError } from "../errors";
import { isStyleName } from "../styles";
import { checkObjectName } from "./object-name";

export interface ObjectAddress {
  readonly bucket: BucketConfig;
  /** Object key, decoded; empty for bucket-level requests. */
  readonly key: string;
  /** Style named in the path as `<key><delimiter><style>`, when the bucket enables a delimiter. */
  readonly style?: string;
  /**
   * The key as the path names it, a style suffix included: what a signature covers, and the object
   * a write addresses (`a.jpg!v2` is an object name to PutObject; only reads take `!v2` as a style).
   */
  readonly pathKey: string;
}

/**
 * Finds the bucket and key the way OSS clients address them: custom domains first, then
 * virtual-hosted `<bucket>.<base-domain>`, then path-style `/<bucket>/<key>`, where a first segment
 * that names no bucket means the default bucket serves the whole path (the Node SDK's IP endpoints).
 */
export function resolveAddress(url: URL, config: ServiceConfig): ObjectAddress {
  const { bucket, key } = findBucketAndKey(url, config);
  if (key !== "") checkObjectName(key);
  return { bucket, pathKey: key, ...splitStyle(key, bucket.styleDelimiters) };
}

/**
 * `photo.jpg!thumb`: the text after the last enabled delimiter is a style when it is a valid
 * style name; otherwise the whole path is the key.
 */
function splitStyle(key: string, delimiters: string): { key: string; style?: string } {
  const at = Math.max(...[...delimiters].map((delimiter) => key.lastIndexOf(delimiter)));
  if (at <= 0) return { key };
  const style = key.slice(at + 1);
  return isStyleName(style) ? { key: key.slice(0, at), style } : { key };
}

function findBucketAndKey(url: URL, config: ServiceConfig): { bucket: BucketConfig; key: string } {
  const host = url.hostname.toLowerCase();
  const path = url.pathname.slice(1);

  const custom = config.customDomains.get(host);
  if (custom) return { bucket: custom, key: decodeKey(path) };

  // The Node SDK, given an IP endpoint, sends `Host: <bucket>.oss-<region>.aliyuncs.com`.
  const sdkHost = OSS_ENDPOINT_HOST.exec(host);
  const sdkBucket = sdkHost && config.buckets.get(sdkHost[1]);
  if (sdkBucket) return { bucket: sdkBucket, key: decodeKey(path) };

  const base = config.baseDomain;
  if (base && host.endsWith(`.${base}`)) {
    const name = host.slice(0, -base.length - 1);
    const bucket = config.buckets.get(name);
    if (!bucket) throw new OssError("NoSuchBucket", "The specified bucket does not exist.");
    return { bucket, key: decodeKey(path) };
  }

  const slash = path.indexOf("/");
  const first = decodeKey(slash < 0 ? path : path.slice(0, slash));
  const named = config.buckets.get(first);
  if (named) return { bucket: named, key: slash < 0 ? "" : decodeKey(path.slice(slash + 1)) };
  if (!config.defaultBucket) throw new OssError("NoSuchBucket", "The specified bucket does not exist.");
  return { bucket: config.defaultBucket, key: decodeKey(path) };
}

const OSS_ENDPOINT_HOST = /^([a-z0-9-]+)\.oss-[a-z0-9-]+\.aliyuncs\.com$/;

function decodeKey(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new OssError("InvalidURI", "Could not parse the specified URI.");
  }
}
