import { readAccessKeys } from "./auth/credentials";
export type BucketAcl = "public-read" | "private";

export interface BucketConfig {
  readonly name: string;
  readonly acl: BucketAcl;
  readonly store: R2Bucket;
  /** Characters that separate a key from a style name in `<key><delimiter><style>` URLs. */
  readonly styleDelimiters: string;
  /** Source image protection: anonymous requests may only use styles. */
  readonly sourceProtection: boolean;
  /**
   * Answer processed requests without a `format` in the best format the client's Accept lists
   * (AVIF, then WebP), with Vary: Accept: not an OSS feature, off unless asked for (Decision 22).
   */
  readonly negotiateFormat: boolean;
  /**
   * Anonymous ListObjects on a public-read bucket. Off by default: public-read makes objects
   * readable by URL, not the bucket's keys an index anyone can page through.
   */
  readonly anonymousList: boolean;
}

/** Shape of the `vars` in wrangler.toml; see README "Buckets and domains". */
export interface Env {
  BUCKETS: Record<
    string,
    {
      binding: string;
      acl: BucketAcl;
      style_delimiters?: string;
      source_protection?: boolean;
      negotiate_format?: boolean;
      anonymous_list?: boolean;
    }
  >;
  /** Access key ids and secrets, comma-separated and paired by position (see src/auth/credentials.ts). */
  OSS_ACCESS_KEY_ID?: string;
  OSS_ACCESS_KEY_SECRET?: string;
  /** R2 bucket holding every bucket's image styles, as `<bucket>/<style name>`. */
  STYLES: R2Bucket;
  /**
   * R2 bucket holding what R2 does not keep about objects: multipart uploads in progress (their
   * parts' ETags, sizes, CRCs and times) and the CRC-64 of objects known only once their bytes
   * were written (src/http/object-state.ts).
   */
  OBJECT_STATE: R2Bucket;
  /** R2 bucket holding the watermark fonts, by file name (see src/fonts.ts). */
  FONTS: R2Bucket;
  DEFAULT_BUCKET?: string;
  BASE_DOMAIN?: string;
  CUSTOM_DOMAINS?: Record<string, string>;
  /** Memory the image pipeline may plan to use per request, in MiB (see src/limits.ts). */
  IMAGE_MEMORY_BUDGET_MB?: string;
  /** Seconds a request may take before it is answered with 400 RequestTimeout (src/deadline.ts). */
  REQUEST_TIMEOUT_SECONDS?: string;
  /** "on" serves the playground page at /_playground (src/playground/); anything else leaves it off. */
  PLAYGROUND?: string;
  [binding: string]: unknown;
}

export interface ServiceConfig {
  readonly buckets: ReadonlyMap<string, BucketConfig>;
  readonly styles: R2Bucket;
  readonly fonts: R2Bucket;
  readonly objectState: R2Bucket;
  readonly defaultBucket?: BucketConfig;
  readonly baseDomain?: string;
  readonly customDomains: ReadonlyMap<string, BucketConfig>;
  readonly memoryBudgetBytes: number;
  readonly requestTimeoutMs: number;
  readonly accessKeys: ReadonlyMap<string, string>;
  /** A development aid that lists bucket contents: never on unless asked for. */
  readonly playground: boolean;
}

/**
 * What a request may plan to hold in the codec engine. The engine's memory stops at 96 MiB
 * (src/engine/instance.ts); its own data, stack and allocator slack take a few of those.
 */
export const DEFAULT_MEMORY_BUDGET_MB = 88;
/** Under Cloudflare's 30 s default CPU limit, so a slow request gets an OSS answer, not a kill. */
const DEFAULT_REQUEST_TIMEOUT_SECONDS = 25;
/** The separators OSS lets a bucket enable for style URLs, and the one enabled by default here. */
const STYLE_DELIMITERS = "-_/!";
const DEFAULT_STYLE_DELIMITERS = "!";

let cached: { env: Env; config: ServiceConfig } | undefined;

/** Reads and checks the configuration once per isolate; a broken config is an operator error and throws. */
export function serviceConfig(env: Env): ServiceConfig {
  if (cached?.env === env) return cached.config;
  const config = buildConfig(env);
  cached = { env, config };
  return config;
}

function r2Binding(env: Env, binding: string): R2Bucket {
  const store = env[binding] as R2Bucket | undefined;
  if (typeof store?.get !== "function") throw new Error(`binding ${binding} is not an R2 bucket`);
  return store;
}

function buildConfig(env: Env): ServiceConfig {
  const buckets = new Map<string, BucketConfig>();
  for (const [name, entry] of Object.entries(env.BUCKETS ?? {})) {
    const store = r2Binding(env, entry.binding);
    if (entry.acl !== "public-read" && entry.acl !== "private") {
      throw new Error(`bucket ${name}: acl must be public-read or private`);
    }
    const styleDelimiters = entry.style_delimiters ?? DEFAULT_STYLE_DELIMITERS;
    if (![...styleDelimiters].every((ch) => STYLE_DELIMITERS.includes(ch))) {
      throw new Error(`bucket ${name}: style_delimiters may only use ${STYLE_DELIMITERS}`);
    }
    buckets.set(name, {
      name,
      acl: entry.acl,
      store,
      styleDelimiters,
      sourceProtection: entry.source_protection === true,
      negotiateFormat: entry.negotiate_format === true,
      anonymousList: entry.anonymous_list === true,
    });
    if (entry.anonymous_list === true && entry.acl === "private") {
      throw new Error(`bucket ${name}: anonymous_list needs acl = "public-read"`);
    }
  }
  const lookup = (name: string, what: string) => {
    const bucket = buckets.get(name);
    if (!bucket) throw new Error(`${what} names unknown bucket ${name}`);
    return bucket;
  };
  const customDomains = new Map<string, BucketConfig>();
  for (const [host, name] of Object.entries(env.CUSTOM_DOMAINS ?? {})) {
    customDomains.set(host.toLowerCase(), lookup(name, `custom domain ${host}`));
  }
  const budgetMb = Number(env.IMAGE_MEMORY_BUDGET_MB ?? DEFAULT_MEMORY_BUDGET_MB);
  // Above about 90 the plan admits requests the engine's ceiling cannot hold: they then fail
  // inside it, with ImageTooLarge, and the engine starts afresh.
  if (!(budgetMb > 0)) throw new Error("IMAGE_MEMORY_BUDGET_MB must be a positive number");
  const timeoutSeconds = Number(env.REQUEST_TIMEOUT_SECONDS ?? DEFAULT_REQUEST_TIMEOUT_SECONDS);
  if (!(timeoutSeconds > 0)) throw new Error("REQUEST_TIMEOUT_SECONDS must be a positive number");
  return {
    buckets,
    styles: r2Binding(env, "STYLES"),
    fonts: r2Binding(env, "FONTS"),
    objectState: r2Binding(env, "OBJECT_STATE"),
    defaultBucket: env.DEFAULT_BUCKET ? lookup(env.DEFAULT_BUCKET, "DEFAULT_BUCKET") : undefined,
    baseDomain: env.BASE_DOMAIN?.toLowerCase(),
    customDomains,
    memoryBudgetBytes: budgetMb * 1024 * 1024,
    requestTimeoutMs: timeoutSeconds * 1000,
    accessKeys: readAccessKeys(env.OSS_ACCESS_KEY_ID, env.OSS_ACCESS_KEY_SECRET),
    playground: env.PLAYGROUND === "on",
  };
}
