#!/usr/bin/env node
// Writes the HEIC test fixtures in test/fixtures/heic/ (committed: no HEVC encoder is available when
// the tests run; sharp's libheif has none). Run once by hand when they must change:
//
//   apt-get install libheif-examples     # Debian 12: heif-enc 1.15.1 with x265 3.5
//   node scripts/make-heic-fixtures.mjs
//
// Sources are the tests' synthetic scene (scripts/lib/scene.mjs), smoothed so that the files stay
// small, at the sizes below. Single images come straight from heif-enc. Grids, as iPhones store them
// (512x512 HEVC tiles, a grid item, irot), are assembled here: each tile is encoded by heif-enc on
// its own, and its hvcC and coded data are copied into a grid HEIF written by `writeGrid` below.
// heif-convert (libheif and libde265) must decode every file written; the script checks that.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { alphaScene, heicSource, p3Patches } from "./lib/heif-images.mjs";

const OUT = new URL("../test/fixtures/heic/", import.meta.url);
const QUALITY = 40;

/** The boxes of an ISO BMFF byte range: type, payload start and end. */
function boxes(bytes, start, end) {
  const list = [];
  let at = start;
  while (at + 8 <= end) {
    const size = bytes.readUInt32BE(at);
    list.push({ type: bytes.toString("latin1", at + 4, at + 8), start: at + 8, end: at + size });
    at += size;
  }
  return list;
}

/** heif-enc's single-image HEIC: its hvcC box (whole), colr box (whole) and the coded data. */
function readSingle(bytes) {
  const meta = boxes(bytes, 0, bytes.length).find((box) => box.type === "meta");
  const parts = boxes(bytes, meta.start + 4, meta.end);
  const iprp = parts.find((box) => box.type === "iprp");
  const ipco = boxes(bytes, iprp.start, iprp.end).find((box) => box.type === "ipco");
  const properties = boxes(bytes, ipco.start, ipco.end);
  const whole = (type) => {
    const box = properties.find((each) => each.type === type);
    return box ? bytes.subarray(box.start - 8, box.end) : undefined;
  };
  const iloc = parts.find((box) => box.type === "iloc");
  const version = bytes[iloc.start];
  if (version !== 0 && version !== 1) throw new Error(`iloc version ${version}`);
  const sizes = bytes.readUInt16BE(iloc.start + 4);
  const offsetSize = sizes >> 12;
  const lengthSize = (sizes >> 8) & 15;
  const baseSize = (sizes >> 4) & 15;
  const indexSize = version === 1 ? sizes & 15 : 0;
  let at = iloc.start + 6;
  const count = bytes.readUInt16BE(at);
  at += 2;
  const uint = (size) => {
    const value = size === 0 ? 0 : size === 4 ? bytes.readUInt32BE(at) : bytes.readUIntBE(at, size);
    at += size;
    return value;
  };
  const chunks = [];
  for (let i = 0; i < count; i++) {
    uint(2); // item ID (heif-enc writes the image alone)
    if (version === 1) uint(2);
    uint(2);
    const base = uint(baseSize);
    const extents = uint(2);
    for (let e = 0; e < extents; e++) {
      uint(indexSize);
      const offset = base + uint(offsetSize);
      const length = uint(lengthSize);
      chunks.push(bytes.subarray(offset, offset + length));
    }
  }
  return { config: whole("hvcC") ?? whole("av1C"), colr: whole("colr"), data: Buffer.concat(chunks) };
}

const u8 = (value) => Buffer.from([value]);
const u16 = (value) => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(value);
  return b;
};
const u32 = (value) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value);
  return b;
};
const box = (type, ...parts) => {
  const payload = Buffer.concat(parts);
  return Buffer.concat([u32(payload.length + 8), Buffer.from(type, "latin1"), payload]);
};
const fullBox = (type, version, flags, ...parts) => box(type, u8(version), u8(0), u16(flags), ...parts);

/**
 * A grid HEIF: item 1 the grid (its description in mdat), items 2.. the tiles (hidden), row after
 * row. Properties: each tile's own hvcC, the tile ispe, the grid ispe, colr, and irot when given.
 */
function writeGrid({ width, height, rows, columns, tileSize, tiles, rotation, codec }) {
  const gridDescription = Buffer.concat([
    u8(0),
    u8(0),
    u8(rows - 1),
    u8(columns - 1),
    u16(width),
    u16(height),
  ]);
  const properties = [];
  const property = (bytes) => {
    const found = properties.findIndex((each) => each.equals(bytes));
    if (found >= 0) return found + 1;
    properties.push(bytes);
    return properties.length;
  };
  const tileIspe = property(fullBox("ispe", 0, 0, u32(tileSize), u32(tileSize)));
  const gridIspe = property(fullBox("ispe", 0, 0, u32(width), u32(height)));
  const colr = tiles[0].colr ? property(tiles[0].colr) : 0;
  const irot = rotation ? property(box("irot", u8(rotation))) : 0;
  const tileProperties = tiles.map((tile) => [property(tile.config) | 0x80, tileIspe]);
  const gridProperties = [gridIspe, ...(colr ? [colr] : []), ...(irot ? [irot | 0x80] : [])];

  const ids = tiles.map((_, i) => i + 2);
  const meta = (offsets) =>
    fullBox(
      "meta",
      0,
      0,
      fullBox("hdlr", 0, 0, u32(0), Buffer.from("pict"), u32(0), u32(0), u32(0), u8(0)),
      fullBox("pitm", 0, 0, u16(1)),
      fullBox(
        "iinf",
        0,
        0,
        u16(1 + tiles.length),
        fullBox("infe", 2, 0, u16(1), u16(0), Buffer.from("grid"), u8(0)),
        ...ids.map((id) => fullBox("infe", 2, 1, u16(id), u16(0), Buffer.from(codec), u8(0))),
      ),
      fullBox("iref", 0, 0, box("dimg", u16(1), u16(ids.length), ...ids.map((id) => u16(id)))),
      box(
        "iprp",
        box("ipco", ...properties),
        fullBox(
          "ipma",
          0,
          0,
          u32(1 + tiles.length),
          u16(1),
          u8(gridProperties.length),
          ...gridProperties.map(u8),
          ...ids.flatMap((id, i) => [u16(id), u8(2), ...tileProperties[i].map(u8)]),
        ),
      ),
      fullBox(
        "iloc",
        0,
        0,
        u8(0x44),
        u8(0x00),
        u16(1 + tiles.length),
        ...[gridDescription, ...tiles.map((tile) => tile.data)].flatMap((data, i) => [
          u16(i + 1),
          u16(0),
          u16(1),
          u32(offsets[i]),
          u32(data.length),
        ]),
      ),
    );
  const brand = codec === "av01" ? "avif" : "heic";
  const ftyp = box("ftyp", Buffer.from(brand), u32(0), Buffer.from(`mif1${brand}`));
  const chunks = [gridDescription, ...tiles.map((tile) => tile.data)];
  const placeholder = meta(chunks.map(() => 0));
  let at = ftyp.length + placeholder.length + 8;
  const offsets = chunks.map((chunk) => {
    const offset = at;
    at += chunk.length;
    return offset;
  });
  return Buffer.concat([ftyp, meta(offsets), box("mdat", ...chunks)]);
}

function heifEnc(png, work, name, extra = []) {
  const input = join(work, `${name}.png`);
  const output = join(work, `${name}.heic`);
  writeFileSync(input, png);
  execFileSync("heif-enc", ["-q", String(QUALITY), ...extra, "-o", output, input], { stdio: "pipe" });
  return readFileSync(output);
}

/** heif-convert must read the file: the container is what libheif expects. Answers its PNG. */
function check(bytes, work, name) {
  const input = join(work, `${name}-check.heic`);
  const output = join(work, `${name}-check.png`);
  writeFileSync(input, bytes);
  execFileSync("heif-convert", [input, output], { stdio: "pipe" });
  return readFileSync(output);
}

async function psnrAgainst(png, source) {
  const a = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const b = await sharp(source).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  if (a.info.width !== b.info.width || a.info.height !== b.info.height) {
    throw new Error(`sizes ${a.info.width}x${a.info.height} and ${b.info.width}x${b.info.height}`);
  }
  let squares = 0;
  for (let i = 0; i < a.data.length; i++) squares += (a.data[i] - b.data[i]) ** 2;
  return 10 * Math.log10((255 * 255 * a.data.length) / squares);
}

async function grid(work, name, size, rotation, codec = "hvc1") {
  const tileSize = 512;
  const columns = Math.ceil(size.width / tileSize);
  const rows = Math.ceil(size.height / tileSize);
  const source = await heicSource(size);
  // The tiles cover more than the image: the last row and column repeat the edge, as encoders pad.
  const padded = await sharp(source)
    .extend({
      right: columns * tileSize - size.width,
      bottom: rows * tileSize - size.height,
      extendWith: "copy",
    })
    .png()
    .toBuffer();
  const tiles = [];
  for (let row = 0; row < rows; row++) {
    for (let column = 0; column < columns; column++) {
      const tile = await sharp(padded)
        .extract({ left: column * tileSize, top: row * tileSize, width: tileSize, height: tileSize })
        .png()
        .toBuffer();
      const extra = codec === "av01" ? ["-A"] : [];
      tiles.push(readSingle(heifEnc(tile, work, `${name}-${row}-${column}`, extra)));
    }
  }
  const bytes = writeGrid({ ...size, rows, columns, tileSize, tiles, rotation, codec });
  let decoded = check(bytes, work, name);
  // libheif applies irot: turn its output back to compare with the source.
  if (rotation)
    decoded = await sharp(decoded)
      .rotate(90 * rotation)
      .png()
      .toBuffer();
  return { bytes, quality: await psnrAgainst(decoded, source) };
}

async function main() {
  mkdirSync(OUT, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), "heic-fixtures-"));
  try {
    const written = {};
    const single = await heicSource({ width: 640, height: 480 });
    written["photo.heic"] = heifEnc(single, work, "photo");
    written["photo-444.heic"] = heifEnc(single, work, "photo-444", ["-p", "chroma=444"]);
    // 10 bits from a 16-bit PNG; alpha as an auxiliary image; a Display P3 profile in colr.
    const deep = await sharp(single).toColourspace("rgb16").png().toBuffer();
    written["photo-10bit.heic"] = heifEnc(deep, work, "photo-10bit", ["-b", "10"]);
    written["photo-10bit.avif"] = heifEnc(deep, work, "photo-10bit-avif", [
      "-A",
      "-b",
      "10",
      "-p",
      "chroma=422",
    ]);
    const alpha = await sharp(alphaScene({ width: 640, height: 480 }), {
      raw: { width: 640, height: 480, channels: 4 },
    })
      .png()
      .toBuffer();
    written["alpha.heic"] = heifEnc(alpha, work, "alpha");
    written["colour-p3.heic"] = heifEnc(await p3Patches(), work, "colour-p3", [
      "-q",
      "90",
      "-p",
      "chroma=444",
    ]);
    const qualities = {};
    for (const name of ["photo.heic", "photo-444.heic", "photo-10bit.heic", "photo-10bit.avif"]) {
      qualities[name] = await psnrAgainst(check(written[name], work, name), single);
    }
    for (const [name, size, rotation, codec] of [
      ["grid-rotated.heic", { width: 1400, height: 1000 }, 3],
      ["grid-12mp.heic", { width: 4032, height: 3024 }, 0],
      ["grid.avif", { width: 1400, height: 1000 }, 1, "av01"],
    ]) {
      const { bytes, quality } = await grid(work, name, size, rotation, codec);
      written[name] = bytes;
      qualities[name] = quality;
    }
    for (const [name, bytes] of Object.entries(written)) {
      writeFileSync(new URL(name, OUT), bytes);
      const quality = qualities[name];
      const against =
        quality === undefined ? "" : `, libheif's decode ${quality.toFixed(1)} dB from the source`;
      console.log(`${name}: ${bytes.length} bytes${against}`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
