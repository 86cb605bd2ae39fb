import sharp from "sharp";
import { PATCH, PATCHES } from "./colour-images.mjs";
import { renderScene } from "./scene.mjs";
import { cachedImages } from "./test-images.mjs";

/** Bump when what is generated changes. */
const VERSION = 4;
const CACHE = new URL(`../../node_modules/.cache/oss-heif-images-v${VERSION}/`, import.meta.url);

export const AVIF_PHOTO = { width: 640, height: 480 };
export const AVIF_12MP = { width: 4032, height: 3024 };
export const AVIF_ALPHA = { width: 640, height: 480 };

/** RGBA: the scene with alpha falling from opaque (left) to clear (right), a clear hole in the middle. */
export function alphaScene({ width, height }) {
  const rgb = renderScene(width, height);
  const rgba = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      rgb.copy(rgba, i * 4, i * 3, i * 3 + 3);
      const hole = (x - width / 2) ** 2 + (y - height / 2) ** 2 < (height / 6) ** 2;
      rgba[i * 4 + 3] = hole ? 0 : Math.round(255 * (1 - x / (width - 1)));
    }
  }
  return rgba;
}

/**
 * The picture the HEIC fixtures encode (scripts/make-heic-fixtures.mjs), as a PNG: the scene,
 * smoothed so that small files still look like it. The tests compare decodes with it.
 */
export async function heicSource({ width, height }) {
  return sharp(renderScene(width, height), { raw: { width, height, channels: 3 } })
    .blur(1.5)
    .png()
    .toBuffer();
}

/** The colour test's patches (scripts/lib/colour-images.mjs), tagged as Display P3: a PNG. */
export function p3Patches() {
  const width = PATCH * PATCHES.length;
  const data = Buffer.alloc(width * PATCH * 3);
  for (let y = 0; y < PATCH; y++) {
    for (let x = 0; x < width; x++) data.set(PATCHES[Math.floor(x / PATCH)], (y * width + x) * 3);
  }
  return sharp(data, { raw: { width, height: PATCH, channels: 3 } })
    .withIccProfile("p3")
    .png()
    .toBuffer();
}

async function make() {
  const photo = (size) => sharp(renderScene(size.width, size.height), { raw: { ...size, channels: 3 } });
  const images = {
    "photo.avif": await photo(AVIF_PHOTO)
      .avif({ quality: 60, chromaSubsampling: "4:2:0", effort: 2 })
      .toBuffer(),
    "photo-444.avif": await photo(AVIF_PHOTO)
      .avif({ quality: 70, chromaSubsampling: "4:4:4", effort: 2 })
      .toBuffer(),
    "alpha.avif": await sharp(alphaScene(AVIF_ALPHA), { raw: { ...AVIF_ALPHA, channels: 4 } })
      .avif({ quality: 70, effort: 2 })
      .toBuffer(),
    "photo-12mp.avif": await photo(AVIF_12MP)
      .avif({ quality: 50, chromaSubsampling: "4:2:0", effort: 2 })
      .toBuffer(),
    "photo-12mp-444.avif": await photo(AVIF_12MP)
      .avif({ quality: 50, chromaSubsampling: "4:4:4", effort: 2 })
      .toBuffer(),
  };
  const p3 = await p3Patches();
  images["colour-p3.avif"] = await sharp(p3)
    .withIccProfile("p3")
    .avif({ quality: 90, chromaSubsampling: "4:4:4" })
    .toBuffer();
  // sharp's colour-managed reading of the P3 patches, for the AVIF here and the committed P3 HEIC.
  images["colour-p3-srgb.png"] = await sharp(p3).toColourspace("srgb").png().toBuffer();
  for (const name of ["photo.avif", "photo-444.avif", "alpha.avif"]) {
    images[name.replace(".avif", "-avif-sharp.png")] = await sharp(images[name])
      .ensureAlpha()
      .png()
      .toBuffer();
  }
  return images;
}

/** The generated images by name, made on the first run and read from the cache afterwards. */
export function heifImages() {
  return cachedImages(CACHE, make);
}
