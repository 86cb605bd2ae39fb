// Writes the few test fixtures the Workers runtime cannot make itself: a CMYK JPEG, and GIFs from
// another encoder (libvips/cgif) than ours. Run with `node scripts/make-fixtures.mjs`; the outputs
// are committed under test/fixtures.
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

// 60x40 animation: three frames rotating the quadrant colours, 100/200/300 ms, looping forever.
const R = [255, 0, 0];
const G = [0, 255, 0];
const B = [0, 0, 255];
const Y = [255, 255, 0];
function quadrantFrame([topLeft, topRight, bottomLeft, bottomRight], w, h, alphaLeft = 255) {
  const raw = Buffer.alloc(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const colour = y < h / 2 ? (x < w / 2 ? topLeft : topRight) : x < w / 2 ? bottomLeft : bottomRight;
      raw.set([...colour, x < w / 2 ? alphaLeft : 255], (y * w + x) * 4);
    }
  }
  return sharp(raw, { raw: { width: w, height: h, channels: 4 } })
    .png()
    .toBuffer();
}
const frames = await Promise.all([
  quadrantFrame([R, G, B, Y], 60, 40),
  quadrantFrame([G, B, Y, R], 60, 40),
  quadrantFrame([B, Y, R, G], 60, 40),
]);
await sharp(frames, { join: { animated: true } })
  .gif({ loop: 0, delay: [100, 200, 300] })
  .toFile(new URL("anim-3frames.gif", out).pathname);
console.log("wrote test/fixtures/anim-3frames.gif");

// A still GIF whose left half is transparent.
await sharp(await quadrantFrame([R, G, B, Y], 40, 20, 0))
  .gif()
  .toFile(new URL("transparent-left.gif", out).pathname);
console.log("wrote test/fixtures/transparent-left.gif");
