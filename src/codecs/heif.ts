import { type OP, type Op, op } from "../engine/ops";
import { cropOp, resampleOp } from "../engine/stages";
import { badRequest } from "../errors";
import type { ImageHeader } from "../image/header";
import type { HeifImageLayout } from "../image/heif";
import type { DecodeRequest } from "./types";

/**
 * What wasm/src/codecs/heif_container.c holds to decode an AVIF or HEIC, whatever the codec: the
 * meta box and its tables, a strip of RGBA rows, a grid's tile row of samples (colour and alpha),
 * and, for one coded picture at a time, what `codecBytes` says its codec holds while decoding it
 * (the coded bytes, the decoder's state and its picture).
 */
export function heifDecoderBytes(
  header: ImageHeader,
  codecBytes: (tile: HeifImageLayout, codedBytes: number) => { decoding: number; picture: number },
): number {
  const heif = header.heif;
  if (!heif) throw new Error("not a HEIF header");
  const tables =
    heif.metaBytes + HEIF_ITEM_BYTES * heif.itemCapacity + 16 * heif.references + 12 * 256 + 8 * 1024;
  const strip = 16 * 4 * header.width;
  const images = [heif.alpha, heif.image].filter((each) => each !== undefined);
  // A grid's tile row is copied out of each tile's picture; a single image's picture is held.
  const band = (image: HeifImageLayout) => {
    if (!image.grid) return 0;
    const sample = image.bits > 8 ? 2 : 1;
    const chroma = image.monochrome ? 0 : 2 / ((image.subsampleX ? 2 : 1) * (image.subsampleY ? 2 : 1));
    return sample * image.width * image.tileHeight * (1 + chroma) + 3 * BLOCK;
  };
  const held = (image: HeifImageLayout) =>
    image.grid ? band(image) : codecBytes(image, image.largestTileBytes).picture;
  // Alpha is decoded first and held while the colour image decodes (or tile row by tile row).
  let peak = 0;
  let holding = 0;
  for (const image of images) {
    const one = codecBytes(image, image.largestTileBytes);
    peak = Math.max(peak, holding + band(image) + one.decoding + one.picture);
    holding += held(image);
  }
  return tables + strip + Math.max(peak, holding) + 8 * BLOCK;
}

const BLOCK = 16;
/** sizeof(HeifItem) in heif_container.h, rounded up. */
const HEIF_ITEM_BYTES = 384;

/** The decode op and what follows it: the decoder pushes the whole clean aperture at full size. */
export function heifOps(header: ImageHeader, { region, size }: DecodeRequest, decode: Op): Op[] {
  const ops = [decode];
  const whole =
    region.x === 0 && region.y === 0 && region.width === header.width && region.height === header.height;
  if (!whole) ops.push(cropOp(header, region, "decode"));
  if (size.width !== region.width || size.height !== region.height) {
    ops.push(resampleOp(region, size, header.hasAlpha, "decode"));
  }
  return ops;
}

export function heifDecodeOp(
  code: typeof OP.DECODE_AVIF | typeof OP.DECODE_HEIC,
  bytes: number,
  source: number,
): Op {
  return op(code, "decode", bytes, source);
}

/** The coding the engine decodes for each format, checked before planning. */
export function expectCodec(header: ImageHeader, codec: string): void {
  const found = header.heif?.codec;
  if (found !== codec) {
    throw badRequest(
      `This ${header.format.toUpperCase()} image is coded as ${found ?? "nothing"}, which this service cannot decode.`,
    );
  }
}
