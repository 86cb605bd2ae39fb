import sharp from "sharp";
import { PATCH, PATCHES } from "./colour-images.mjs";
import { renderScene } from "./scene.mjs";
import { cachedImages } from "./test-images.mjs";

/** Bump when what is generated changes. */
const VERSION = 1;
const CACHE = new URL(`../../node_modules/.cache/oss-webp-images-v${VERSION}/`, import.meta.url);

export const WEBP_12MP = { width: 4032, height: 3024 };
export const WEBP_4MP = { width: 2304, height: 1728 };
export const ALPHA = { width: 640, height: 480 };
/** The animation: frame i is a square at x = 20 i over a background of hue i, shown DELAYS[i] ms. */
export const ANIMATION = {
  width: 320,
  height: 240,
  delays: [40, 60, 80, 100, 120, 140, 160, 180, 200, 220, 240, 260],
};
export const GIF_ANIMATION = { width: 480, height: 270, frames: 24, delay: 80 };

const scene = (size) => sharp(renderScene(size.width, size.height), { raw: { ...size, channels: 3 } });

/** The scene with an alpha channel: opaque left third, a ramp across, fully transparent right end. */
function alphaPixels({ width, height }) {
  const rgb = renderScene(width, height);
  const rgba = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      rgba.set(rgb.subarray(i * 3, i * 3 + 3), i * 4);
      const t = (x - width / 3) / (width / 2);
      rgba[i * 4 + 3] = t <= 0 ? 255 : t >= 1 ? 0 : Math.round(255 * (1 - t));
    }
  }
  return rgba;
}

/** A frame of an animation: a background of its own colour and a white square that moves. */
async function frame(size, i, count) {
  const data = Buffer.alloc(size.width * size.height * 4);
  const hue = (i * 360) / count;
  const [r, g, b] = [0, 120, 240].map((shift) =>
    Math.round(127 + 120 * Math.cos(((hue + shift) * Math.PI) / 180)),
  );
  for (let y = 0; y < size.height; y++) {
    for (let x = 0; x < size.width; x++) {
      const square = x >= 20 * i && x < 20 * i + 60 && y >= 40 && y < 100;
      data.set(square ? [255, 255, 255, 255] : [r, g, b, 255], (y * size.width + x) * 4);
    }
  }
  return sharp(data, { raw: { ...size, channels: 4 } })
    .png()
    .toBuffer();
}

function patches() {
  const width = PATCH * PATCHES.length;
  const data = Buffer.alloc(width * PATCH * 3);
  for (let y = 0; y < PATCH; y++) {
    for (let x = 0; x < width; x++) data.set(PATCHES[Math.floor(x / PATCH)], (y * width + x) * 3);
  }
  return sharp(data, { raw: { width, height: PATCH, channels: 3 } });
}

async function make() {
  const alpha = sharp(alphaPixels(ALPHA), { raw: { ...ALPHA, channels: 4 } });
  const frames = await Promise.all(
    ANIMATION.delays.map((_, i) => frame(ANIMATION, i, ANIMATION.delays.length)),
  );
  const gifFrames = await Promise.all(
    Array.from({ length: GIF_ANIMATION.frames }, (_, i) => frame(GIF_ANIMATION, i, GIF_ANIMATION.frames)),
  );
  const p3 = await patches().withIccProfile("p3").webp({ lossless: true }).toBuffer();
  return {
    "webp-12mp-lossy.webp": await scene(WEBP_12MP).webp({ quality: 80 }).toBuffer(),
    "webp-4mp-lossless.webp": await scene(WEBP_4MP).webp({ lossless: true }).toBuffer(),
    "webp-photo.webp": await scene({ width: 1600, height: 1200 }).webp({ quality: 90 }).toBuffer(),
    "webp-alpha-lossy.webp": await alpha.clone().webp({ quality: 90, alphaQuality: 100 }).toBuffer(),
    "webp-alpha-lossless.webp": await alpha.clone().webp({ lossless: true, exact: true }).toBuffer(),
    "webp-alpha-source.png": await alpha.clone().png().toBuffer(),
    "webp-animated.webp": await sharp(frames, { join: { animated: true } })
      .webp({ delay: ANIMATION.delays, loop: 0, quality: 90 })
      .toBuffer(),
    "webp-animated.gif": await sharp(gifFrames, { join: { animated: true } })
      .gif({ delay: Array(GIF_ANIMATION.frames).fill(GIF_ANIMATION.delay), loop: 0 })
      .toBuffer(),
    "webp-colour-p3.webp": p3,
    "webp-colour-p3.sharp.png": await sharp(p3).toColourspace("srgb").png().toBuffer(),
  };
}

/** The WebP sources by name, made on the first run and read from the cache afterwards. */
export function webpImages() {
  return cachedImages(CACHE, make);
}
