// PNG and TIFF sources for test/formats-png.test.ts and test/formats-tiff.test.ts, made with sharp
// (libvips) when the suite starts and cached under node_modules/.cache: every PNG layout (palette
// with tRNS, grey, grey+alpha, 16-bit, Adam7), a 12 MP photo and a 3840x2160 RGBA screenshot,
// TIFFs in each compression, strips and tiles, and damaged files of both.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import sharp from "sharp";
import { renderScene } from "./scene.mjs";

/** Bump when what is generated changes. */
const VERSION = 5;
const CACHE = new URL(`../../node_modules/.cache/oss-format-images-v${VERSION}/`, import.meta.url);

const scene = (width, height) => sharp(renderScene(width, height), { raw: { width, height, channels: 3 } });

/**
 * A 12 MP photo as PNG within OSS's 20 MB source limit (the scene's per-pixel noise makes a 33 MB
 * PNG at full size): the scene at half the size, each pixel doubled both ways. About 10 MB.
 */
async function photo12mpPng() {
  const small = await scene(2016, 1512).png().toBuffer();
  return sharp(small).resize(4032, 3024, { kernel: "nearest" }).png({ compressionLevel: 6 }).toBuffer();
}

/** A screenshot-like image: flat colour panels, text-like strokes, transparency at the corners. */
export function screenshotPixels(width, height) {
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
  return rgba;
}

const screenshot = (width, height) =>
  sharp(screenshotPixels(width, height), { raw: { width, height, channels: 4 } });

/** A photo with an alpha channel fading out at the left and right edges. */
function withAlpha(width, height) {
  const rgb = renderScene(width, height);
  const rgba = Buffer.alloc(width * height * 4);
  for (let i = 0, p = 0; i < width * height; i++, p += 3) {
    const x = i % width;
    const edge = Math.min(x, width - 1 - x) / (width * 0.15);
    rgba.set([rgb[p], rgb[p + 1], rgb[p + 2], Math.round(255 * Math.min(1, edge))], i * 4);
  }
  return sharp(rgba, { raw: { width, height, channels: 4 } });
}

/** A logo-like graphic of few colours (opaque): what sites keep as palette PNGs. */
function graphic(width, height) {
  const rgb = Buffer.alloc(width * height * 3);
  const colours = [
    [250, 250, 250],
    [20, 60, 140],
    [230, 120, 30],
    [40, 160, 90],
    [200, 30, 60],
    [90, 90, 90],
  ];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const dx = x - width / 2;
      const dy = y - height / 2;
      const ring = Math.floor(Math.sqrt(dx * dx + dy * dy) / 37);
      const band = Math.floor((x + 2 * y) / 91);
      const index = (x * 7 + y * 3) % 97 < 3 ? 5 : (ring + band) % 5;
      rgb.set(colours[index], (y * width + x) * 3);
    }
  }
  return sharp(rgb, { raw: { width, height, channels: 3 } });
}

/** A PNG with bytes changed inside its first IDAT chunk's data (CRC left stale). */
function damagedIdat(png) {
  const copy = Buffer.from(png);
  for (let pos = 8; pos + 12 <= copy.length; ) {
    const length = copy.readUInt32BE(pos);
    if (copy.toString("latin1", pos + 4, pos + 8) === "IDAT") {
      for (let i = 0; i < 64 && i < length; i += 4) copy[pos + 8 + Math.floor(length / 3) + i] ^= 0x5a;
      return copy;
    }
    pos += 12 + length;
  }
  throw new Error("no IDAT");
}

/** A TIFF whose first IFD points its strip offsets past the end of the file. */
function damagedTiff(tiff) {
  const copy = Buffer.from(tiff);
  const little = copy.toString("latin1", 0, 2) === "II";
  const u16 = (at) => (little ? copy.readUInt16LE(at) : copy.readUInt16BE(at));
  const u32 = (at) => (little ? copy.readUInt32LE(at) : copy.readUInt32BE(at));
  const ifd = u32(4);
  for (let i = 0; i < u16(ifd); i++) {
    const entry = ifd + 2 + i * 12;
    if (u16(entry) === 273) {
      // StripOffsets: the value (or the array it points to) made to point far beyond the file.
      const count = u32(entry + 4);
      const at = count === 1 ? entry + 8 : u32(entry + 8);
      for (let k = 0; k < count; k++) {
        if (little) copy.writeUInt32LE(0x7ffffff0 - k, at + 4 * k);
        else copy.writeUInt32BE(0x7ffffff0 - k, at + 4 * k);
      }
      return copy;
    }
  }
  throw new Error("no StripOffsets");
}

async function make() {
  const photo = scene(1200, 900);
  const alpha = withAlpha(1000, 700);
  const photoPng = await photo.clone().png().toBuffer();
  const tiffPhoto = scene(2304, 1728); // 4 MP
  const p3Png = await photo.clone().resize(400, 300).withIccProfile("p3").png().toBuffer();
  const p3Tiff = await photo
    .clone()
    .resize(400, 300)
    .withIccProfile("p3")
    .tiff({ compression: "lzw" })
    .toBuffer();
  const lzwTiff = await tiffPhoto.clone().tiff({ compression: "lzw" }).toBuffer();
  const srgb = (bytes) => sharp(bytes).toColourspace("srgb").png().toBuffer();
  const images = {
    // sharp's own results, the references: colour-managed, and Lanczos3 thumbnails.
    "fmt-p3.sharp.png": await srgb(p3Png),
    "fmt-p3-tiff.sharp.png": await srgb(p3Tiff),
    "fmt-photo.sharp-w200.png": await sharp(photoPng).resize(200).png().toBuffer(),
    "fmt-alpha.sharp-w200.png": await sharp(await alpha.clone().png().toBuffer())
      .resize(200)
      .png()
      .toBuffer(),
    "fmt-photo-4mp-lzw.sharp-w200.png": await sharp(lzwTiff).resize(200).png().toBuffer(),
    "fmt-photo-12mp.png": await photo12mpPng(),
    "fmt-screenshot-3840x2160.png": await screenshot(3840, 2160).png().toBuffer(),
    "fmt-photo.png": photoPng,
    "fmt-alpha.png": await alpha.clone().png().toBuffer(),
    "fmt-adam7.png": await alpha.clone().png({ progressive: true }).toBuffer(),
    "fmt-adam7-rgb.png": await photo.clone().png({ progressive: true }).toBuffer(),
    "fmt-16bit.png": await alpha.clone().toColourspace("rgb16").png().toBuffer(),
    "fmt-16bit-rgb.png": await photo.clone().toColourspace("rgb16").png().toBuffer(),
    "fmt-grey.png": await photo.clone().toColourspace("b-w").png().toBuffer(),
    "fmt-grey-alpha.png": await alpha.clone().toColourspace("b-w").png().toBuffer(),
    "fmt-palette-trns.png": await alpha.clone().png({ palette: true, colours: 64, dither: 0 }).toBuffer(),
    "fmt-palette-opaque.png": await graphic(1600, 1200).png({ palette: true, colours: 16 }).toBuffer(),
    "fmt-p3.png": p3Png,
    "fmt-truncated.png": photoPng.subarray(0, Math.floor(photoPng.length * 0.6)),
    "fmt-damaged-idat.png": damagedIdat(photoPng),
    "fmt-photo-4mp-lzw.tiff": lzwTiff,
    "fmt-photo-4mp-deflate.tiff": await tiffPhoto.clone().tiff({ compression: "deflate" }).toBuffer(),
    "fmt-photo-4mp-jpeg.tiff": await tiffPhoto.clone().tiff({ compression: "jpeg", quality: 90 }).toBuffer(),
    "fmt-photo-4mp-tiled.tiff": await tiffPhoto
      .clone()
      .tiff({ compression: "deflate", tile: true, tileWidth: 256, tileHeight: 256 })
      .toBuffer(),
    "fmt-photo-packbits.tiff": await photo.clone().tiff({ compression: "packbits" }).toBuffer(),
    "fmt-photo-none.tiff": await photo.clone().tiff({ compression: "none" }).toBuffer(),
    "fmt-alpha.tiff": await alpha.clone().tiff({ compression: "lzw" }).toBuffer(),
    "fmt-grey.tiff": await photo.clone().toColourspace("b-w").tiff({ compression: "lzw" }).toBuffer(),
    "fmt-16bit.tiff": await photo.clone().toColourspace("rgb16").tiff({ compression: "lzw" }).toBuffer(),
    "fmt-1bit-ccitt.tiff": await photo
      .clone()
      .threshold(128)
      .toColourspace("b-w")
      .tiff({ compression: "ccittfax4", bitdepth: 1 })
      .toBuffer(),
    "fmt-wide-16385.tiff": await sharp({
      create: { width: 16_385, height: 4, channels: 3, background: "#808080" },
    })
      .tiff({ compression: "lzw" })
      .toBuffer(),
    "fmt-p3.tiff": p3Tiff,
    "fmt-truncated.tiff": lzwTiff.subarray(0, Math.floor(lzwTiff.length * 0.5)),
    "fmt-damaged-ifd.tiff": damagedTiff(lzwTiff),
  };
  // sharp's decode of each TIFF it can read, as a PNG: the reference for the engine's pixels.
  for (const [name, bytes] of Object.entries(images)) {
    if (!name.endsWith(".tiff") || /truncated|damaged|ccitt|wide|p3/.test(name)) continue;
    images[name.replace(/\.tiff$/, ".sharp.png")] = await sharp(bytes).png().toBuffer();
  }
  return images;
}

/** name -> bytes, generated on first use and cached afterwards. */
export async function formatImages() {
  const marker = new URL("complete", CACHE);
  if (!existsSync(marker)) {
    const images = await make();
    mkdirSync(CACHE, { recursive: true });
    for (const [name, bytes] of Object.entries(images)) writeFileSync(new URL(name, CACHE), bytes);
    writeFileSync(marker, "");
  }
  return Object.fromEntries(
    readdirSync(CACHE)
      .filter((name) => name !== "complete")
      .map((name) => [name, readFileSync(new URL(name, CACHE))]),
  );
}
