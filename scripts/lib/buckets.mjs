// Local R2 access for the scripts: the same persisted state `wrangler dev` (npm start) uses, opened
// through Miniflare, so objects written here are visible to the running server at once.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Miniflare } from "miniflare";

export const STATE_DIR = new URL("../../.wrangler/state/", import.meta.url).pathname;

/** Bucket names from wrangler.toml's `[[r2_buckets]]` blocks, by binding. */
export function configuredBuckets() {
  const toml = readFileSync(new URL("../../wrangler.toml", import.meta.url), "utf8");
  const buckets = {};
  for (const block of toml.split("[[r2_buckets]]").slice(1)) {
    const binding = /binding\s*=\s*"([^"]+)"/.exec(block)?.[1];
    const name = /bucket_name\s*=\s*"([^"]+)"/.exec(block)?.[1];
    if (binding && name) buckets[name] = binding;
  }
  return buckets;
}

/** Opens the local buckets persisted under `stateDir`; call `dispose()` when done. */
export async function openLocalBuckets(stateDir = STATE_DIR) {
  const buckets = configuredBuckets();
  const mf = new Miniflare({
    modules: true,
    script: "export default { fetch() { return new Response(null, { status: 404 }); } }",
    r2Buckets: Object.fromEntries(Object.entries(buckets).map(([name, binding]) => [binding, name])),
    r2Persist: join(stateDir, "v3", "r2"),
  });
  await mf.ready;
  return {
    names: Object.keys(buckets),
    /** Resolves to the R2 bucket binding for a bucket name. */
    bucket: async (name) => {
      const binding = buckets[name];
      if (!binding)
        throw new Error(`unknown bucket ${name}; wrangler.toml defines: ${Object.keys(buckets).join(", ")}`);
      return mf.getR2Bucket(binding);
    },
    dispose: () => mf.dispose(),
  };
}
