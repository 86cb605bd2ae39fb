// npm run seed -- <folder> [--bucket <name>]
// Uploads a folder recursively into a local bucket (default: demo). Keys are the relative paths;
// Content-Type comes from the file extension. Works while `npm start` is running.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join, relative, resolve, sep } from "node:path";
import { openLocalBuckets } from "./lib/buckets.mjs";

const CONTENT_TYPES = {
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".png": "image/png",
  ".webp": "image/webp",
  ".avif": "image/avif",
  ".gif": "image/gif",
  ".bmp": "image/bmp",
  ".tif": "image/tiff",
  ".tiff": "image/tiff",
  ".heic": "image/heic",
  ".svg": "image/svg+xml",
  ".json": "application/json",
  ".txt": "text/plain",
};

function* walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.isFile()) yield path;
  }
}

export async function seed(folder, bucketName = "demo", { quiet = false, stateDir } = {}) {
  const root = resolve(folder);
  if (!statSync(root, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`${folder} is not a folder`);
  const local = await openLocalBuckets(stateDir);
  try {
    const bucket = await local.bucket(bucketName);
    let count = 0;
    for (const path of walk(root)) {
      const key = relative(root, path).split(sep).join("/");
      const contentType = CONTENT_TYPES[extname(path).toLowerCase()] ?? "application/octet-stream";
      await bucket.put(key, new Uint8Array(readFileSync(path)), { httpMetadata: { contentType } });
      if (!quiet) console.log(`  ${bucketName}/${key} (${contentType})`);
      count++;
    }
    return count;
  } finally {
    await local.dispose();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const bucketFlag = args.indexOf("--bucket");
  const bucket = bucketFlag >= 0 ? args[bucketFlag + 1] : "demo";
  const folder = args.find((arg, i) => !arg.startsWith("--") && (bucketFlag < 0 || i !== bucketFlag + 1));
  if (!folder || (bucketFlag >= 0 && !bucket)) {
    console.error("usage: npm run seed -- <folder> [--bucket <name>]");
    process.exit(2);
  }
  try {
    const count = await seed(folder, bucket);
    console.log(`seeded ${count} object(s) into ${bucket}`);
  } catch (error) {
    console.error(`seed failed: ${error.message}`);
    process.exit(1);
  }
}
