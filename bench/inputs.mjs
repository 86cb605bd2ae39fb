// The benchmark's inputs: the synthetic photo (scripts/lib/scene.mjs) in every format a site stores,
// made with sharp and cached in bench/.work/inputs/ (the cache is keyed by the generator version).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import { movingDiscGif } from "../scripts/lib/gif-images.mjs";
import { renderScene } from "../scripts/lib/scene.mjs";

/** Bump when an input's recipe changes, so no older file is reused. */
const GENERATOR_VERSION = 3;

const scene = (width, height) => sharp(renderScene(width, height), { raw: { width, height, channels: 3 } });

/** Adds an alpha channel: opaque in the middle, fading to transparent at the left and right edges. */
function withAlpha(width, height) {
  const rgb = renderScene(width, height);
  const rgba = Buffer.alloc(width * height * 4);
  for (let i = 0, p = 0; i < width * height; i++, p += 3) {
    const x = i % width;
    const edge = Math.min(x, width - 1 - x) / (width * 0.15);
    rgba[i * 4] = rgb[p];
    rgba[i * 4 + 1] = rgb[p + 1];
    rgba[i * 4 + 2] = rgb[p + 2];
    rgba[i * 4 + 3] = Math.round(255 * Math.min(1, edge));
  }
  return sharp(rgba, { raw: { width, height, channels: 4 } });
}

/** A screenshot-like image: flat colour panels, text-like strokes, transparency at the corners. */
function screenshot(width, height) {
  const rgba = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      const panel = ((x >> 8) + (y >> 7)) % 4;
      const stroke = (x % 9 < 2 && y % 23 < 15) || (y % 23 === 16 && x % 160 < 140);
      const shade = stroke ? 30 : [245, 232, 210, 190][panel];
      rgba[o] = shade;
      rgba[o + 1] = stroke ? 30 : shade - panel * 10;
      rgba[o + 2] = stroke ? 80 : 255 - panel * 30;
      const corner = Math.min(x, width - 1 - x) < 12 && Math.min(y, height - 1 - y) < 12;
      rgba[o + 3] = corner ? 0 : 255;
    }
  }
  return sharp(rgba, { raw: { width, height, channels: 4 } });
}

/** name -> how to make it. Sizes follow what sites store: phone photos, screenshots, logos. */
const RECIPES = {
  "photo-1024.jpg": () => scene(1024, 768).jpeg({ quality: 90 }),
  "photo-12mp.jpg": () => scene(4032, 3024).jpeg({ quality: 90 }),
  "photo-12mp-progressive.jpg": () => scene(4032, 3024).jpeg({ quality: 90, progressive: true }),
  "photo-24mp.jpg": () => scene(6000, 4000).jpeg({ quality: 90 }),
  "photo-48mp.jpg": () => scene(8000, 6000).jpeg({ quality: 85 }),
  "photo-48mp-progressive.jpg": () => scene(8000, 6000).jpeg({ quality: 85, progressive: true }),
  // A light blur stands for a camera's or editor's denoise: with the scene's full sensor noise the
  // PNG is 33 MB, over OSS's 20 MB source limit; this one is 16 MB, what a 12 MP photo PNG weighs.
  "photo-12mp.png": () => scene(4032, 3024).blur(0.6).png({ compressionLevel: 6, adaptiveFiltering: true }),
  "photo-1024.png": () => scene(1024, 768).png(),
  "screenshot-3840x2160.png": () => screenshot(3840, 2160).png(),
  "photo-12mp.webp": () => scene(4032, 3024).webp({ quality: 80 }),
  "photo-12mp-lossless.webp": () => scene(4032, 3024).webp({ lossless: true }),
  "photo-12mp-alpha.webp": () => withAlpha(4032, 3024).webp({ quality: 80 }),
  "photo-12mp.avif": () => scene(4032, 3024).avif({ quality: 60, chromaSubsampling: "4:2:0" }),
  "photo-4mp.tiff": () => scene(2304, 1728).tiff({ compression: "lzw" }),
  // The same pixels tagged Display P3 (an iPhone photo) and converted to CMYK with sharp's
  // built-in profiles: what the colour step costs is their time against photo-12mp.jpg's.
  "photo-12mp-p3.jpg": () => scene(4032, 3024).withIccProfile("p3").jpeg({ quality: 90 }),
  "photo-12mp-cmyk.jpg": () =>
    scene(4032, 3024).toColourspace("cmyk").withIccProfile("cmyk").jpeg({ quality: 90 }),
  // The committed 12 MP grid HEIC of the tests (scripts/make-heic-fixtures.mjs), 512x512 tiles
  "grid-12mp.heic": () => ({
    toBuffer: () => readFileSync(new URL("../test/fixtures/heic/grid-12mp.heic", import.meta.url)),
  }),
  // 24 frames, the scene with a moving disc, written by sharp
  "anim-480x270-24.gif": () => ({ toBuffer: () => movingDiscGif(480, 270, 24) }),
};

export const INPUT_NAMES = Object.keys(RECIPES);

/** The bytes of a named input, made on first use and read from the cache afterwards. */
export async function benchInput(workDir, name) {
  const recipe = RECIPES[name];
  if (!recipe) throw new Error(`no bench input named ${name}`);
  const dir = join(workDir, `inputs-v${GENERATOR_VERSION}`);
  const path = join(dir, name);
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path, await recipe().toBuffer());
  }
  return readFileSync(path);
}
