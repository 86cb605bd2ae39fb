// Damaged and hostile images for test/corpus.test.ts, made deterministically from a few images
// sharp writes: truncations, bit flips, empty and mislabelled files, decompression bombs (headers
// claiming huge sizes, thousands of GIF frames, a tiny PNG that inflates to 400 MB), odd colour
// spaces and bit depths, and EXIF in every orientation, broken in several ways.
//
// Each entry says what the Worker must answer to `image/resize,w_32`:
//   { image: { width, height } }  a 200 image of that size
//   { error: "Code" }            that OSS error, with a 4xx status
//   { either: true }             a 200 image or an OSS 4xx: damage a decoder may or may not notice
import { readFileSync } from "node:fs";
import sharp from "sharp";
import { prng } from "./scene.mjs";

const WIDTH = 64;
const HEIGHT = 48;
const RESIZED = { width: 32, height: 24 };

function quadrantPixels(width, height, channels = 3) {
  const pixels = Buffer.alloc(width * height * channels);
  const colours = [
    [255, 0, 0, 255],
    [0, 255, 0, 255],
    [0, 0, 255, 128],
    [255, 255, 0, 255],
  ];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const colour = colours[(y < height / 2 ? 0 : 2) + (x < width / 2 ? 0 : 1)];
      for (let c = 0; c < channels; c++) pixels[(y * width + x) * channels + c] = colour[c];
    }
  }
  return pixels;
}

const base = (channels = 3) =>
  sharp(quadrantPixels(WIDTH, HEIGHT, channels), { raw: { width: WIDTH, height: HEIGHT, channels } });

/** `count` bytes flipped at random positions from `from` on (past the headers, when asked). */
function flipped(bytes, count, seed, from = 0) {
  const random = prng(seed);
  const copy = Buffer.from(bytes);
  for (let i = 0; i < count; i++) {
    const at = from + Math.floor(random() * (copy.length - from - 2));
    copy[at] ^= 1 << Math.floor(random() * 8);
  }
  return copy;
}

const truncated = (bytes, fraction) => bytes.subarray(0, Math.floor(bytes.length * fraction));

/** Offset just past the JPEG's first SOS header: where entropy-coded data starts. */
function jpegScanStart(jpeg) {
  for (let i = 2; i + 3 < jpeg.length; i++) {
    if (jpeg[i] === 0xff && jpeg[i + 1] === 0xda) return i + 2 + jpeg.readUInt16BE(i + 2);
  }
  throw new Error("no SOS");
}

/** A JPEG with an APP1 Exif segment holding `tiff` (a TIFF structure) right after SOI. */
function withExif(jpeg, tiff) {
  const payload = Buffer.concat([Buffer.from("Exif\0\0", "binary"), tiff]);
  const segment = Buffer.alloc(4);
  segment.writeUInt16BE(0xffe1, 0);
  segment.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), segment, payload, jpeg.subarray(2)]);
}

/** A big-endian TIFF with one IFD entry: Orientation (0x0112, SHORT) = `value`. */
function orientationTiff(value, { ifdOffset = 8, count = 1 } = {}) {
  const tiff = Buffer.alloc(26);
  tiff.write("MM\0*", 0, "binary");
  tiff.writeUInt32BE(ifdOffset, 4);
  tiff.writeUInt16BE(count, 8);
  tiff.writeUInt16BE(0x0112, 10);
  tiff.writeUInt16BE(3, 12);
  tiff.writeUInt32BE(1, 14);
  tiff.writeUInt16BE(value, 18);
  return tiff;
}

/** A PNG signature and IHDR claiming any size, then an empty IDAT and IEND (CRCs not computed). */
function pngClaiming(width, height) {
  const bytes = Buffer.alloc(8 + 25 + 12 + 12);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(bytes, 0);
  bytes.writeUInt32BE(13, 8);
  bytes.write("IHDR", 12, "binary");
  bytes.writeUInt32BE(width, 16);
  bytes.writeUInt32BE(height, 20);
  bytes.set([8, 6, 0, 0, 0], 24);
  bytes.write("IDAT", 33 + 4, "binary");
  bytes.write("IEND", 45 + 4, "binary");
  return bytes;
}

/** A GIF89a whose logical screen claims `width` x `height`, with one 1x1 frame. */
function gifClaiming(width, height) {
  return gifFrames(width, height, 1);
}

/**
 * A GIF89a of `frames` frames, each a 1x1 pixel (alternating colours) with a 10 ms delay, on a
 * `width` x `height` screen: small to store, thousands of frames to decode.
 */
function gifFrames(width, height, frames) {
  const header = Buffer.alloc(13);
  header.write("GIF89a", 0, "binary");
  header.writeUInt16LE(width, 6);
  header.writeUInt16LE(height, 8);
  header[10] = 0x80; // global colour table of 2 entries
  const palette = Buffer.from([255, 0, 0, 0, 0, 255]);
  const loop = Buffer.from([0x21, 0xff, 0x0b, ...Buffer.from("NETSCAPE2.0"), 0x03, 0x01, 0x00, 0x00, 0x00]);
  const parts = [header, palette, loop];
  for (let i = 0; i < frames; i++) {
    const x = i % width;
    const y = Math.floor(i / width) % height;
    const control = Buffer.from([0x21, 0xf9, 0x04, 0x04, 0x01, 0x00, 0x00, 0x00]);
    const descriptor = Buffer.alloc(10);
    descriptor[0] = 0x2c;
    descriptor.writeUInt16LE(x, 1);
    descriptor.writeUInt16LE(y, 3);
    descriptor.writeUInt16LE(1, 5);
    descriptor.writeUInt16LE(1, 7);
    // LZW, minimum code size 2: clear, the pixel's index, end of information.
    const pixel = Buffer.from([0x02, 0x02, i % 2 === 0 ? 0x44 : 0x4c, 0x01, 0x00]);
    parts.push(control, descriptor, pixel);
  }
  parts.push(Buffer.from([0x3b]));
  return Buffer.concat(parts);
}

/** The HEIF file with its first ispe (the primary image's, in sharp's and heif-enc's files) claiming a size. */
function heifClaiming(bytes, width, height) {
  const copy = Buffer.from(bytes);
  const at = copy.indexOf("ispe", 0, "latin1");
  copy.writeUInt32BE(width, at + 8);
  copy.writeUInt32BE(height, at + 12);
  return copy;
}

/** Offset just past a HEIF file's mdat header: where the coded data starts. */
const mdatStart = (bytes) => bytes.indexOf("mdat", 0, "latin1") + 4;

export async function hostileCorpus() {
  const jpeg = await base().jpeg({ quality: 90 }).toBuffer();
  const progressive = await base().jpeg({ quality: 90, progressive: true }).toBuffer();
  const png = await base(4).png().toBuffer();
  const webp = await base().webp({ quality: 80 }).toBuffer();
  const gif = await base().gif().toBuffer();
  const tiff = await base(4).tiff({ compression: "lzw" }).toBuffer();
  const tiledTiff = await base()
    .tiff({ compression: "deflate", tile: true, tileWidth: 16, tileHeight: 16 })
    .toBuffer();
  const webpLossless = await base(4).webp({ lossless: true }).toBuffer();
  const webpAlpha = await base(4).webp({ quality: 80 }).toBuffer();
  const webpFrames = await Promise.all(
    [0, 1, 2].map((i) =>
      base(4)
        .modulate({ hue: 90 * i })
        .png()
        .toBuffer(),
    ),
  );
  const webpAnimated = await sharp(webpFrames, { join: { animated: true } })
    .webp({ delay: [100, 100, 100], loop: 0 })
    .toBuffer();
  const avif = await base().avif({ quality: 70, effort: 2 }).toBuffer();
  // A committed HEIC (no HEVC encoder runs here): 640x480, the same 4:3 as the others.
  const heic = readFileSync(new URL("../../test/fixtures/heic/photo.heic", import.meta.url));
  const image = { image: RESIZED };
  const either = { either: true };

  const corpus = [
    { name: "empty.jpg", bytes: Buffer.alloc(0), expect: { error: "BadRequest" } },
    { name: "text.jpg", bytes: Buffer.from("this is not an image\n"), expect: { error: "BadRequest" } },
    { name: "png-named.jpg", bytes: png, expect: image },
    { name: "jpeg-named.gif", bytes: jpeg, expect: image },
    { name: "gif-named.png", bytes: gif, expect: image },
    { name: "webp-named.bmp", bytes: webp, expect: image },
    { name: "jpeg-soi-only.jpg", bytes: jpeg.subarray(0, 3), expect: { error: "BadRequest" } },
    { name: "jpeg-half.jpg", bytes: truncated(jpeg, 0.5), expect: { error: "BadRequest" } },
    { name: "jpeg-no-eoi.jpg", bytes: jpeg.subarray(0, jpeg.length - 2), expect: { error: "BadRequest" } },
    { name: "progressive-half.jpg", bytes: truncated(progressive, 0.6), expect: { error: "BadRequest" } },
    { name: "png-half.png", bytes: truncated(png, 0.5), expect: { error: "BadRequest" } },
    { name: "png-header-only.png", bytes: png.subarray(0, 33), expect: { error: "BadRequest" } },
    { name: "gif-half.gif", bytes: truncated(gif, 0.5), expect: either },
    { name: "webp-half.webp", bytes: truncated(webp, 0.5), expect: { error: "BadRequest" } },
    { name: "webp-lossless.webp", bytes: webpLossless, expect: image },
    { name: "webp-alpha.webp", bytes: webpAlpha, expect: image },
    { name: "webp-animated.webp", bytes: webpAnimated, expect: image },
    { name: "webp-lossless-half.webp", bytes: truncated(webpLossless, 0.5), expect: { error: "BadRequest" } },
    { name: "webp-alpha-half.webp", bytes: truncated(webpAlpha, 0.6), expect: { error: "BadRequest" } },
    { name: "webp-animated-half.webp", bytes: truncated(webpAnimated, 0.5), expect: { error: "BadRequest" } },
    // A VP8X canvas that is not the size of the bitstream it holds.
    {
      name: "webp-canvas-mismatch.webp",
      bytes: webpClaiming(webp, 4000, 3000),
      expect: { error: "BadRequest" },
    },
    { name: "cmyk.jpg", bytes: await base().toColourspace("cmyk").jpeg().toBuffer(), expect: image },
    { name: "grey.jpg", bytes: await base().greyscale().jpeg().toBuffer(), expect: image },
    { name: "progressive.jpg", bytes: progressive, expect: image },
    { name: "grey-alpha.png", bytes: await base(4).greyscale().png().toBuffer(), expect: image },
    {
      name: "palette.png",
      bytes: await base(4).png({ palette: true, colours: 4 }).toBuffer(),
      expect: image,
    },
    {
      name: "one-bit.png",
      bytes: await base().greyscale().png({ palette: true, colours: 2 }).toBuffer(),
      expect: image,
    },
    { name: "sixteen-bit.png", bytes: await base(4).toColourspace("rgb16").png().toBuffer(), expect: image },
    { name: "interlaced.png", bytes: await base(4).png({ progressive: true }).toBuffer(), expect: image },
    {
      name: "bomb-jpeg-65500.jpg",
      bytes: jpegClaiming(jpeg, 65_500, 65_500),
      expect: { error: "ImageTooLarge" },
    },
    { name: "bomb-png-30000.png", bytes: pngClaiming(30_000, 30_000), expect: { error: "ImageTooLarge" } },
    // Within OSS's 250 M pixels, and the engine's PNG decoder streams rows: a claim alone plans,
    // and the missing image data is damage.
    { name: "bomb-png-240mp.png", bytes: pngClaiming(16_000, 15_000), expect: { error: "BadRequest" } },
    // 100 M pixels that inflate to 400 MB stream through in rows of memory: a thumbnail, as OSS gives.
    {
      name: "bomb-png-inflates-400mb.png",
      bytes: await sharp({ create: { width: 10_000, height: 10_000, channels: 4, background: "#000" } })
        .png({ compressionLevel: 9 })
        .toBuffer(),
      expect: { image: { width: 32, height: 32 } },
    },
    { name: "bomb-gif-screen.gif", bytes: gifClaiming(65_535, 65_535), expect: { error: "ImageTooLarge" } },
    {
      name: "bomb-webp-268mp.webp",
      bytes: webpClaiming(webp, 16_383, 16_383),
      expect: { error: "ImageTooLarge" },
    },
    { name: "avif.avif", bytes: avif, expect: image },
    {
      name: "avif-alpha.avif",
      bytes: await base(4).avif({ quality: 70, effort: 2 }).toBuffer(),
      expect: image,
    },
    { name: "avif-half.avif", bytes: truncated(avif, 0.5), expect: { error: "BadRequest" } },
    { name: "avif-meta-cut.avif", bytes: avif.subarray(0, 100), expect: { error: "BadRequest" } },
    {
      name: "avif-no-data.avif",
      bytes: avif.subarray(0, mdatStart(avif) + 4),
      expect: { error: "BadRequest" },
    },
    {
      name: "bomb-avif-256mp.avif",
      bytes: heifClaiming(avif, 16_000, 16_000),
      expect: { error: "ImageTooLarge" },
    },
    {
      name: "avif-claims-more-than-coded.avif",
      bytes: heifClaiming(avif, 640, 480),
      expect: { error: "BadRequest" },
    },
    { name: "heic.heic", bytes: heic, expect: image },
    { name: "heic-half.heic", bytes: truncated(heic, 0.5), expect: { error: "BadRequest" } },
    { name: "heic-meta-cut.heic", bytes: heic.subarray(0, 100), expect: { error: "BadRequest" } },
    {
      name: "bomb-heic-256mp.heic",
      bytes: heifClaiming(heic, 16_000, 16_000),
      expect: { error: "ImageTooLarge" },
    },
    {
      name: "heic-claims-more-than-coded.heic",
      bytes: heifClaiming(heic, 4000, 3000),
      expect: { error: "BadRequest" },
    },
    // 2,000 frames of 64x48: within OSS's 250 M pixels (frames x area), so it must be processed.
    { name: "gif-2000-frames.gif", bytes: gifFrames(WIDTH, HEIGHT, 2000), expect: image },
  ];
  for (let seed = 1; seed <= 6; seed++) {
    corpus.push(
      {
        name: `jpeg-flipped-data-${seed}.jpg`,
        bytes: flipped(jpeg, 4, seed, jpegScanStart(jpeg)),
        expect: either,
      },
      { name: `jpeg-flipped-anywhere-${seed}.jpg`, bytes: flipped(jpeg, 8, seed * 31), expect: either },
      { name: `png-flipped-${seed}.png`, bytes: flipped(png, 4, seed, 33), expect: either },
      { name: `gif-flipped-${seed}.gif`, bytes: flipped(gif, 4, seed, 13), expect: either },
      { name: `webp-flipped-${seed}.webp`, bytes: flipped(webp, 4, seed, 30), expect: either },
      { name: `tiff-flipped-${seed}.tiff`, bytes: flipped(tiff, 4, seed, 8), expect: either },
      { name: `tiff-tiled-flipped-${seed}.tiff`, bytes: flipped(tiledTiff, 6, seed * 7, 8), expect: either },
      {
        name: `webp-lossless-flipped-${seed}.webp`,
        bytes: flipped(webpLossless, 4, seed, 25),
        expect: either,
      },
      { name: `webp-alpha-flipped-${seed}.webp`, bytes: flipped(webpAlpha, 4, seed, 30), expect: either },
      {
        name: `webp-animated-flipped-${seed}.webp`,
        bytes: flipped(webpAnimated, 4, seed, 40),
        expect: either,
      },
      { name: `avif-flipped-${seed}.avif`, bytes: flipped(avif, 4, seed, 12), expect: either },
      {
        name: `avif-flipped-data-${seed}.avif`,
        bytes: flipped(avif, 4, seed, mdatStart(avif)),
        expect: either,
      },
      { name: `heic-flipped-${seed}.heic`, bytes: flipped(heic, 4, seed, 12), expect: either },
      {
        name: `heic-flipped-data-${seed}.heic`,
        bytes: flipped(heic, 8, seed, mdatStart(heic)),
        expect: either,
      },
    );
  }
  // TIFF: decoded by the engine's libtiff; cut short, its strips point past the end.
  corpus.push(
    { name: "tiff-lzw.tiff", bytes: tiff, expect: image },
    { name: "tiff-tiled.tiff", bytes: tiledTiff, expect: image },
    { name: "tiff-half.tiff", bytes: truncated(tiff, 0.5), expect: { error: "BadRequest" } },
    { name: "tiff-tiled-half.tiff", bytes: truncated(tiledTiff, 0.6), expect: { error: "BadRequest" } },
    { name: "tiff-header-only.tiff", bytes: tiff.subarray(0, 8), expect: { error: "BadRequest" } },
    {
      name: "tiff-fax.tiff",
      bytes: await base()
        .threshold(128)
        .toColourspace("b-w")
        .tiff({ compression: "ccittfax4", bitdepth: 1 })
        .toBuffer(),
      expect: { error: "BadRequest" },
    },
    {
      name: "bomb-tiff-side.tiff",
      bytes: await sharp({ create: { width: 16_385, height: 2, channels: 3, background: "#000" } })
        .tiff({ compression: "lzw" })
        .toBuffer(),
      expect: { error: "ImageTooLarge" },
    },
  );
  for (let orientation = 1; orientation <= 8; orientation++) {
    const upright = orientation >= 5 ? { width: 32, height: 43 } : RESIZED;
    corpus.push({
      name: `exif-orientation-${orientation}.jpg`,
      bytes: withExif(jpeg, orientationTiff(orientation)),
      expect: { image: upright },
    });
  }
  corpus.push(
    { name: "exif-orientation-0.jpg", bytes: withExif(jpeg, orientationTiff(0)), expect: image },
    { name: "exif-orientation-9.jpg", bytes: withExif(jpeg, orientationTiff(9)), expect: image },
    { name: "exif-orientation-65535.jpg", bytes: withExif(jpeg, orientationTiff(65_535)), expect: image },
    {
      name: "exif-bad-magic.jpg",
      bytes: withExif(jpeg, Buffer.from("XX\0*\0\0\0\x08", "binary")),
      expect: image,
    },
    {
      name: "exif-ifd-past-end.jpg",
      bytes: withExif(jpeg, orientationTiff(6, { ifdOffset: 0x7fffffff })),
      expect: image,
    },
    {
      name: "exif-65535-entries.jpg",
      bytes: withExif(jpeg, orientationTiff(6, { count: 65_535 })),
      expect: either,
    },
    { name: "exif-empty.jpg", bytes: withExif(jpeg, Buffer.alloc(0)), expect: image },
  );
  return corpus;
}

/** The JPEG with its SOF0 frame size replaced. */
function jpegClaiming(jpeg, width, height) {
  const copy = Buffer.from(jpeg);
  for (let i = 2; i + 8 < copy.length; i++) {
    if (copy[i] === 0xff && (copy[i + 1] === 0xc0 || copy[i + 1] === 0xc2)) {
      copy.writeUInt16BE(height, i + 5);
      copy.writeUInt16BE(width, i + 7);
      return copy;
    }
  }
  throw new Error("no SOF");
}

/** The lossy WebP wrapped as an extended (VP8X) file claiming a canvas of any size. */
function webpClaiming(webp, width, height) {
  const chunks = webp.subarray(12);
  const vp8x = Buffer.alloc(18);
  vp8x.write("VP8X", 0, "binary");
  vp8x.writeUInt32LE(10, 4);
  vp8x.writeUIntLE(width - 1, 12, 3);
  vp8x.writeUIntLE(height - 1, 15, 3);
  const riff = Buffer.alloc(12);
  riff.write("RIFF", 0, "binary");
  riff.writeUInt32LE(4 + vp8x.length + chunks.length, 4);
  riff.write("WEBP", 8, "binary");
  return Buffer.concat([riff, vp8x, chunks]);
}
