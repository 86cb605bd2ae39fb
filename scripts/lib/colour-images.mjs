// Colour-tagged sources for test/color.test.ts, made with sharp (libvips and its Little CMS) when
// the suite starts and cached under node_modules/.cache, with what sharp's colour-managed decode
// of each gives (as PNG, sRGB): the reference the engine's conversion is held against.
//
// Each source is a row of flat patches, so compression barely touches the colours inside them.
// Profiles sharp has no name for (Adobe RGB, grey gamma 1.8) are written here: ICC v2 matrix/TRC
// profiles are a header, a tag table and a few tags (ICC.1:2001-04, sections 6 and 6.5).
import { readFileSync } from "node:fs";
import sharp from "sharp";
import { renderScene } from "./scene.mjs";
import { cachedImages } from "./test-images.mjs";

const VERSION = 3;
const CACHE = new URL(`../../node_modules/.cache/oss-colour-images-v${VERSION}/`, import.meta.url);

/** Patch colours (sRGB), each a 48x48 square; chosen inside the P3, Adobe RGB and CMYK gamuts. */
export const PATCHES = [
  [200, 100, 50],
  [60, 140, 90],
  [70, 90, 170],
  [220, 200, 120],
  [128, 128, 128],
  [190, 60, 140],
];
export const PATCH = 48;

/** Adobe RGB (1998) adapted to D50 as ICC profiles store it, and its gamma (563/256). */
export const ADOBE_RGB = {
  red: [0.6097, 0.3111, 0.0195],
  green: [0.2053, 0.6257, 0.0609],
  blue: [0.1492, 0.0632, 0.7446],
  gamma: 563 / 256,
};
export const GREY_GAMMA = 1.8;

const D50 = [0.9642, 1.0, 0.8249];

function s15Fixed16(value) {
  return Math.round(value * 65536) | 0;
}

/** An ICC v2 display profile: RGB with colorants and gamma curves, or grey with one curve. */
export function iccProfile({ description, colorants, gamma }) {
  const tags = [];
  const text = (signature, value) => {
    const bytes = Buffer.alloc(8 + value.length + 1);
    bytes.write("text", 0, "latin1");
    bytes.write(value, 8, "latin1");
    tags.push([signature, bytes]);
  };
  const xyz = (signature, [x, y, z]) => {
    const bytes = Buffer.alloc(20);
    bytes.write("XYZ ", 0, "latin1");
    bytes.writeInt32BE(s15Fixed16(x), 8);
    bytes.writeInt32BE(s15Fixed16(y), 12);
    bytes.writeInt32BE(s15Fixed16(z), 16);
    tags.push([signature, bytes]);
  };
  const curve = (signature) => {
    const bytes = Buffer.alloc(14);
    bytes.write("curv", 0, "latin1");
    bytes.writeUInt32BE(1, 8);
    bytes.writeUInt16BE(Math.round(gamma * 256), 12); // u8Fixed8Number
    tags.push([signature, bytes]);
  };
  // 'desc': ASCII with its length, then empty Unicode and ScriptCode parts (67 bytes of the latter).
  const desc = Buffer.alloc(12 + description.length + 1 + 8 + 3 + 67);
  desc.write("desc", 0, "latin1");
  desc.writeUInt32BE(description.length + 1, 8);
  desc.write(description, 12, "latin1");
  tags.push(["desc", desc]);
  text("cprt", "No copyright, test profile");
  xyz("wtpt", D50);
  if (colorants) {
    xyz("rXYZ", colorants.red);
    xyz("gXYZ", colorants.green);
    xyz("bXYZ", colorants.blue);
    for (const signature of ["rTRC", "gTRC", "bTRC"]) curve(signature);
  } else {
    curve("kTRC");
  }

  const tableBytes = 4 + 12 * tags.length;
  let offset = 128 + tableBytes;
  const entries = tags.map(([signature, bytes]) => {
    const entry = { signature, bytes, offset };
    offset += Math.ceil(bytes.length / 4) * 4;
    return entry;
  });
  const profile = Buffer.alloc(offset);
  profile.writeUInt32BE(offset, 0);
  profile.writeUInt32BE(0x02100000, 8);
  profile.write("mntr", 12, "latin1");
  profile.write(colorants ? "RGB " : "GRAY", 16, "latin1");
  profile.write("XYZ ", 20, "latin1");
  profile.write("acsp", 36, "latin1");
  D50.forEach((value, i) => {
    profile.writeInt32BE(s15Fixed16(value), 68 + 4 * i);
  });
  profile.writeUInt32BE(tags.length, 128);
  entries.forEach(({ signature, bytes, offset: at }, i) => {
    profile.write(signature, 132 + 12 * i, "latin1");
    profile.writeUInt32BE(at, 136 + 12 * i);
    profile.writeUInt32BE(bytes.length, 140 + 12 * i);
    bytes.copy(profile, at);
  });
  return profile;
}

/** The JPEG with `profile` in APP2 ICC_PROFILE markers of at most `chunk` bytes, after SOI. */
export function withIcc(jpeg, profile, chunk = 65519) {
  const chunks = [];
  for (let at = 0; at < profile.length; at += chunk) chunks.push(profile.subarray(at, at + chunk));
  const markers = chunks.map((data, i) => {
    const head = Buffer.alloc(18);
    head.writeUInt16BE(0xffe2, 0);
    head.writeUInt16BE(2 + 14 + data.length, 2);
    head.write("ICC_PROFILE\0", 4, "latin1");
    head[16] = i + 1;
    head[17] = chunks.length;
    return Buffer.concat([head, data]);
  });
  return Buffer.concat([jpeg.subarray(0, 2), ...markers, jpeg.subarray(2)]);
}

/** The JPEG without its APP2 markers. */
export function withoutIcc(jpeg) {
  const parts = [jpeg.subarray(0, 2)];
  let at = 2;
  while (at + 4 <= jpeg.length && jpeg[at] === 0xff && jpeg[at + 1] !== 0xda) {
    const end = at + 2 + jpeg.readUInt16BE(at + 2);
    if (jpeg[at + 1] !== 0xe2) parts.push(jpeg.subarray(at, end));
    at = end;
  }
  parts.push(jpeg.subarray(at));
  return Buffer.concat(parts);
}

function patches() {
  const width = PATCH * PATCHES.length;
  const data = Buffer.alloc(width * PATCH * 3);
  for (let y = 0; y < PATCH; y++) {
    for (let x = 0; x < width; x++) data.set(PATCHES[Math.floor(x / PATCH)], (y * width + x) * 3);
  }
  return sharp(data, { raw: { width, height: PATCH, channels: 3 } });
}

/** sharp's colour-managed decode to sRGB, as PNG. */
const sharpSrgb = (bytes) => sharp(bytes).toColourspace("srgb").png().toBuffer();

const NOT_A_PROFILE = Buffer.from("this is not an ICC profile, only its marker".repeat(8));

const FOGRA39 = new URL("../../wasm/profiles/FOGRA39-coated-input.icc", import.meta.url);

async function make() {
  const jpeg = { quality: 95, chromaSubsampling: "4:4:4" };
  const adobe = iccProfile({
    description: "Adobe RGB (1998) test",
    colorants: ADOBE_RGB,
    gamma: ADOBE_RGB.gamma,
  });
  const grey = iccProfile({ description: "Grey gamma 1.8 test", gamma: GREY_GAMMA });
  // Stored values, not conversions: the profiles are then attached, so the pixels are in them.
  const plain = await patches().jpeg(jpeg).toBuffer();
  const greyPlain = await patches().toColourspace("b-w").jpeg(jpeg).toBuffer();
  const p3 = await patches().withIccProfile("p3").jpeg(jpeg).toBuffer();
  const p3Progressive = await patches()
    .withIccProfile("p3")
    .jpeg({ ...jpeg, progressive: true })
    .toBuffer();
  const srgbTagged = await patches().withIccProfile("srgb").jpeg(jpeg).toBuffer();
  const cmykTagged = await patches().toColourspace("cmyk").withIccProfile("cmyk").jpeg(jpeg).toBuffer();
  const cmykInks = withoutIcc(cmykTagged);
  const images = {
    "colour-plain.jpg": plain,
    "colour-srgb.jpg": srgbTagged,
    "colour-p3.jpg": p3,
    // P3 in two APP2 chunks, progressive: the DC-scan thumbnail path joins them too.
    "colour-p3-progressive.jpg": withIcc(withoutIcc(p3Progressive), readIcc(p3), 200),
    "colour-p3-chunked.jpg": withIcc(withoutIcc(p3), readIcc(p3), 200),
    "colour-adobe.jpg": withIcc(plain, adobe),
    "colour-grey-plain.jpg": greyPlain,
    "colour-grey.jpg": withIcc(greyPlain, grey),
    "colour-cmyk.jpg": cmykTagged,
    "colour-cmyk-bare.jpg": cmykInks,
    // A profile Little CMS cannot parse: "ICC_PROFILE" chunk of bytes that are no profile.
    "colour-broken.jpg": withIcc(plain, NOT_A_PROFILE),
    "colour-cmyk-broken.jpg": withIcc(cmykInks, NOT_A_PROFILE),
  };
  // sharp's colour-managed answers. For the bare CMYK inks, sharp's conversion by the engine's
  // default profile (attached for sharp only): the engine must apply that profile as Little CMS does.
  images["colour-p3.sharp.png"] = await sharpSrgb(p3);
  images["colour-adobe.sharp.png"] = await sharpSrgb(images["colour-adobe.jpg"]);
  images["colour-cmyk.sharp.png"] = await sharpSrgb(cmykTagged);
  images["colour-cmyk-bare.sharp.png"] = await sharpSrgb(withIcc(cmykInks, readFileSync(FOGRA39)));
  // Phone-sized: a 12 MP Display P3 photo and a 12 MP CMYK one with sharp's 1 MB CMYK profile.
  const phone = sharp(renderScene(4032, 3024), { raw: { width: 4032, height: 3024, channels: 3 } });
  images["colour-p3-12mp.jpg"] = await phone.clone().withIccProfile("p3").jpeg({ quality: 90 }).toBuffer();
  images["colour-cmyk-12mp.jpg"] = await phone
    .clone()
    .toColourspace("cmyk")
    .withIccProfile("cmyk")
    .jpeg({ quality: 90 })
    .toBuffer();
  images["colour-adobe.icc"] = adobe;
  images["colour-grey.icc"] = grey;
  return images;
}

/** The profile of a JPEG written by sharp (one APP2 chunk). */
function readIcc(jpeg) {
  let at = 2;
  while (at + 4 <= jpeg.length) {
    const length = jpeg.readUInt16BE(at + 2);
    if (jpeg[at + 1] === 0xe2 && jpeg.toString("latin1", at + 4, at + 15) === "ICC_PROFILE") {
      return jpeg.subarray(at + 18, at + 2 + length);
    }
    at += 2 + length;
  }
  throw new Error("no ICC profile");
}

/** The colour sources and references by name, made on the first run and cached afterwards. */
export function colourImages() {
  return cachedImages(CACHE, make);
}
