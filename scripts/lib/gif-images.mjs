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
