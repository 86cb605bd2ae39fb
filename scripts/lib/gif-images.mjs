// Animated GIFs for the GIF tests and bench/gif.mjs, made with sharp (libvips + cgif): the
// synthetic scene with a disc moving across it, one position per frame (bench/load.mjs draws the
// same), and frames that exercise disposal and transparency.
import sharp from "sharp";
import { renderScene } from "./scene.mjs";

/** The raw RGB frames, one after another: the scene with a red disc at its frame's position. */
export function movingDiscFrames(width, height, frames) {
  const scene = renderScene(width, height);
  const pixels = Buffer.alloc(width * height * 3 * frames);
  const radius = height / 6;
  for (let frame = 0; frame < frames; frame++) {
    const offset = frame * width * height * 3;
    scene.copy(pixels, offset);
    const cx = ((frame + 0.5) / frames) * width;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if ((x - cx) ** 2 + (y - height / 2) ** 2 > radius ** 2) continue;
        pixels.set([220, 30, 40], offset + (y * width + x) * 3);
      }
    }
  }
  return pixels;
}

/** The moving disc as a looping animated GIF, 100 ms a frame, written by sharp. */
export function movingDiscGif(width, height, frames) {
  return sharp(movingDiscFrames(width, height, frames), {
    raw: { width, height: height * frames, channels: 3, pageHeight: height },
  })
    .gif({ delay: new Array(frames).fill(100), loop: 0 })
    .toBuffer();
}

/** Bump when what gifImages makes changes. */
const VERSION = 1;
const CACHE = new URL(`../../node_modules/.cache/oss-gif-images-v${VERSION}/`, import.meta.url);

/**
 * The GIF tests' inputs and references, cached: the 24-frame 480x270 animation, and what sharp
 * writes for it re-encoded and resized to 200x113 (the byte targets of test/formats-gif.test.ts).
 */
export async function gifImages() {
  const { existsSync, mkdirSync, readFileSync, writeFileSync } = await import("node:fs");
  const names = ["anim-480x270-24.gif", "anim-480x270-24-sharp.gif", "anim-480x270-24-sharp-w200.gif"];
  if (!names.every((name) => existsSync(new URL(name, CACHE)))) {
    mkdirSync(CACHE, { recursive: true });
    const source = await movingDiscGif(480, 270, 24);
    const images = {
      [names[0]]: source,
      [names[1]]: await sharp(source, { animated: true }).gif().toBuffer(),
      [names[2]]: await sharp(source, { animated: true }).resize(200, 113, { fit: "fill" }).gif().toBuffer(),
    };
    for (const [name, bytes] of Object.entries(images)) writeFileSync(new URL(name, CACHE), bytes);
  }
  return Object.fromEntries(names.map((name) => [name, readFileSync(new URL(name, CACHE))]));
}
