// Images the engine tests need that are too large to commit, made with sharp (libvips) when the
// suite starts and cached under node_modules/.cache: the synthetic photo as JPEG and PNG with
// sharp's own Lanczos3 resizes of it as references, the photo at 12 megapixels (baseline and
// progressive), and quadrant JPEGs of 12, 50 and 250 megapixels.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import sharp from "sharp";
import { renderScene } from "./scene.mjs";

/** Bump when what is generated changes. */
const VERSION = 3;
const CACHE = new URL(`../../node_modules/.cache/oss-test-images-v${VERSION}/`, import.meta.url);

export const PHOTO = { width: 1600, height: 1200 };
/** The PNG source is smaller: PNG of a noisy photo is large, and it only has to show the resampler. */
export const PHOTO_PNG = { width: 800, height: 600 };
export const REFERENCE_WIDTH = 200;
/** A phone photo's size: 12 megapixels, 4:3. */
export const PHOTO_12MP = { width: 4032, height: 3024 };

/** Red | green over blue | yellow, as the tests' `quadrants` helper draws them. */
const QUADRANTS = Buffer.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 0]);
export const BIG_JPEGS = {
  "quadrants-12mp.jpg": { width: 4032, height: 3024 },
  "quadrants-50mp.jpg": { width: 8192, height: 6144 },
  "quadrants-250mp.jpg": { width: 20_000, height: 12_500 },
};

async function make() {
  const photo = renderScene(PHOTO.width, PHOTO.height);
  const photoJpeg = await sharp(photo, { raw: { ...PHOTO, channels: 3 } })
    .jpeg({ quality: 90, chromaSubsampling: "4:2:0" })
    .toBuffer();
  const photoPng = await sharp(renderScene(PHOTO_PNG.width, PHOTO_PNG.height), {
    raw: { ...PHOTO_PNG, channels: 3 },
  })
    .png({ compressionLevel: 9 })
    .toBuffer();
  const phone = sharp(renderScene(PHOTO_12MP.width, PHOTO_12MP.height), {
    raw: { ...PHOTO_12MP, channels: 3 },
  });
  const images = {
    "photo-12mp.jpg": await phone.clone().jpeg({ quality: 90, chromaSubsampling: "4:2:0" }).toBuffer(),
    "photo-12mp-progressive.jpg": await phone
      .clone()
      .jpeg({ quality: 90, chromaSubsampling: "4:2:0", progressive: true })
      .toBuffer(),
    "photo.jpg": photoJpeg,
    "photo.png": photoPng,
    // sharp's resize of each, Lanczos3 (its default kernel), shrink-on-load included for the JPEG
    "photo-jpg-sharp-w200.png": await sharp(photoJpeg).resize(REFERENCE_WIDTH).png().toBuffer(),
    "photo-png-sharp-w200.png": await sharp(photoPng).resize(REFERENCE_WIDTH).png().toBuffer(),
  };
  // A 48-megapixel progressive JPEG: its thumbnail comes from the DC scans alone.
  images["quadrants-48mp-progressive.jpg"] = await sharp(QUADRANTS, {
    raw: { width: 2, height: 2, channels: 3 },
  })
    .resize(8000, 6000, { kernel: "nearest" })
    .jpeg({ quality: 85, progressive: true })
    .toBuffer();
  for (const [name, { width, height }] of Object.entries(BIG_JPEGS)) {
    images[name] = await sharp(QUADRANTS, { raw: { width: 2, height: 2, channels: 3 } })
      .resize(width, height, { kernel: "nearest" })
      .jpeg({ quality: 80 })
      .toBuffer();
  }
  return images;
}

/** The generated images by name, made on the first run and read from the cache afterwards. */
export function testImages() {
  return cachedImages(CACHE, make);
}

/**
 * Images by name from a cache directory (a URL ending in /), made by `make` on the first run and
 * read back afterwards; every generator under scripts/lib keeps its images this way.
 */
export async function cachedImages(cache, make) {
  const index = new URL("index.json", cache);
  if (existsSync(index)) {
    const names = JSON.parse(readFileSync(index, "utf8"));
    return Object.fromEntries(names.map((name) => [name, readFileSync(new URL(name, cache))]));
  }
  const images = await make();
  mkdirSync(cache, { recursive: true });
  for (const [name, bytes] of Object.entries(images)) writeFileSync(new URL(name, cache), bytes);
  writeFileSync(index, JSON.stringify(Object.keys(images)));
  return images;
}
