// npm run fonts:deploy [-- --bucket <FONTS bucket name>] [--local]
// Uploads the text-watermark fonts (scripts/lib/fonts.mjs: Noto Sans SC from npm, plus Debian's
// WenQuanYi and Droid fonts when installed) into the deployed FONTS bucket with `wrangler r2 object
// put`. The bucket name defaults to the FONTS binding's bucket_name in wrangler.toml.
import { spawnSync } from "node:child_process";
import { configuredBuckets } from "./lib/buckets.mjs";
import { fontFiles } from "./lib/fonts.mjs";

const args = process.argv.slice(2);
const named = args.indexOf("--bucket");
const bucket =
  named >= 0
    ? args[named + 1]
    : Object.entries(configuredBuckets()).find(([, binding]) => binding === "FONTS")?.[0];
if (!bucket) {
  console.error("No FONTS bucket: name it with --bucket <name> or bind FONTS in wrangler.toml.");
  process.exit(1);
}
const where = args.includes("--local") ? "--local" : "--remote";
for (const [key, path] of Object.entries(fontFiles())) {
  console.log(`Uploading ${path} to ${bucket}/${key} (${where.slice(2)})`);
  const result = spawnSync(
    "npx",
    [
      "wrangler",
      "r2",
      "object",
      "put",
      `${bucket}/${key}`,
      "--file",
      path,
      "--content-type",
      "font/ttf",
      where,
    ],
    { stdio: "inherit" },
  );
  if (result.status !== 0) process.exit(result.status ?? 1);
}
