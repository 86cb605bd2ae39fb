// Cached JPEGs of the synthetic photo (scripts/lib/scene.mjs) for the benchmark, in bench/.work/.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import { renderScene } from "../scripts/lib/scene.mjs";

/** Bump when the generator changes, so cached files from an older generator are not reused. */
const GENERATOR_VERSION = 1;

/**
 * Path of the cached q90 4:2:0 baseline JPEG of the scene at `width` x `height` under `workDir`,
 * rendering and encoding it first when it is missing.
 */
export async function photoJpeg(workDir, width, height) {
  const path = join(workDir, `photo-${width}x${height}-v${GENERATOR_VERSION}.jpg`);
  if (!existsSync(path)) {
    mkdirSync(workDir, { recursive: true });
    const jpeg = await sharp(renderScene(width, height), { raw: { width, height, channels: 3 } })
      .jpeg({ quality: 90, chromaSubsampling: "4:2:0" })
      .toBuffer();
    writeFileSync(path, jpeg);
  }
  return { path, bytes: readFileSync(path) };
}
