// Writes the few test fixtures the Workers runtime cannot make itself (our encoders cannot write
// CMYK). Run with `node scripts/make-fixtures.mjs`; the outputs are committed under test/fixtures.
import { mkdirSync } from "node:fs";
import sharp from "sharp";

const out = new URL("../test/fixtures/", import.meta.url);
mkdirSync(out, { recursive: true });

// 64x48 quadrants (red, green / blue, yellow), stored as an Adobe CMYK JPEG.
const width = 64;
const height = 48;
const rgb = Buffer.alloc(width * height * 3);
for (let y = 0; y < height; y++) {
  for (let x = 0; x < width; x++) {
    const colour =
      y < height / 2
        ? x < width / 2
          ? [255, 0, 0]
          : [0, 255, 0]
        : x < width / 2
          ? [0, 0, 255]
          : [255, 255, 0];
    rgb.set(colour, (y * width + x) * 3);
  }
}
await sharp(rgb, { raw: { width, height, channels: 3 } })
  .toColourspace("cmyk")
  .jpeg({ quality: 95, chromaSubsampling: "4:4:4" })
  .toFile(new URL("cmyk-quadrants.jpg", out).pathname);
console.log("wrote test/fixtures/cmyk-quadrants.jpg");
