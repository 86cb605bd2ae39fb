export type BucketAcl = "public-read" | "private";

export interface BucketConfig {
  readonly name: string;
  readonly acl: BucketAcl;
  readonly store: R2Bucket;
}

/** Shape of the `vars` in wrangler.toml; see README "Buckets and domains". */
export interface Env {
  BUCKETS: Record<string, { binding: string; acl: BucketAcl }>;
  DEFAULT_BUCKET?: string;
  BASE_DOMAIN?: string;
  CUSTOM_DOMAINS?: Record<string, string>;
  /** Memory the image pipeline may plan to use per request, in MiB (see src/limits.ts). */
  IMAGE_MEMORY_BUDGET_MB?: string;
  [binding: string]: unknown;
}

export interface ServiceConfig {
  readonly buckets: ReadonlyMap<string, BucketConfig>;
  readonly defaultBucket?: BucketConfig;
  readonly baseDomain?: string;
  readonly customDomains: ReadonlyMap<string, BucketConfig>;
  readonly memoryBudgetBytes: number;
}

const DEFAULT_MEMORY_BUDGET_MB = 96;

let cached: { env: Env; config: ServiceConfig } | undefined;

/** Reads and checks the configuration once per isolate; a broken config is an operator error and throws. */
export function serviceConfig(env: Env): ServiceConfig {
  if (cached?.env === env) return cached.config;
  const config = buildConfig(env);
  cached = { env, config };
  return config;
}

function buildConfig(env: Env): ServiceConfig {
  const buckets = new Map<string, BucketConfig>();
  for (const [name, entry] of Object.entries(env.BUCKETS ?? {})) {
    const store = env[entry.binding] as R2Bucket | undefined;
    if (!store || typeof store.get !== "function") {
      throw new Error(`bucket ${name}: binding ${entry.binding} is not an R2 bucket`);
    }
    if (entry.acl !== "public-read" && entry.acl !== "private") {
      throw new Error(`bucket ${name}: acl must be public-read or private`);
    }
    buckets.set(name, { name, acl: entry.acl, store });
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
  if (!(budgetMb > 0)) throw new Error("IMAGE_MEMORY_BUDGET_MB must be a positive number");
  return {
    buckets,
    defaultBucket: env.DEFAULT_BUCKET ? lookup(env.DEFAULT_BUCKET, "DEFAULT_BUCKET") : undefined,
    baseDomain: env.BASE_DOMAIN?.toLowerCase(),
    customDomains,
    memoryBudgetBytes: budgetMb * 1024 * 1024,
  };
}
