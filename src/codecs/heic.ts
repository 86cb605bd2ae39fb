import { OP } from "../engine/ops";
import type { HeifImageLayout } from "../image/heif";
import { expectCodec, heifDecodeOp, heifDecoderBytes, heifOps } from "./heif";
import type { EngineDecoder } from "./types";

/**
 * libde265 decoding one coded picture (a tile, or a whole single image): the NAL units it copies
 * (the coded bytes, twice with ours), its decoded picture (planes padded to whole CTBs), the
 * per-block metadata it keeps beside it, and fixed contexts (measured in test/formats-heic.test.ts
 * against the engine's peak).
 */
export function de265Bytes(
  image: HeifImageLayout,
  codedBytes: number,
): { decoding: number; picture: number } {
  const width = Math.ceil(image.tileWidth / 64) * 64 + 64;
  const height = Math.ceil(image.tileHeight / 64) * 64 + 64;
  const sample = image.bits > 8 ? 2 : 1;
  const chroma = image.monochrome ? 0 : 2 / ((image.subsampleX ? 2 : 1) * (image.subsampleY ? 2 : 1));
  const picture = width * height * sample * (1 + chroma);
  const metadata = DE265_METADATA_BYTES_PER_PIXEL * width * height;
  return { decoding: 2 * codedBytes + metadata + DE265_FIXED_BYTES, picture };
}
const DE265_FIXED_BYTES = 1024 * 1024;
const DE265_METADATA_BYTES_PER_PIXEL = 1;

/**
 * HEIC in the codec engine (wasm/src/codecs/heic.c): libde265 decodes each HEVC tile of a grid
 * (iPhones: 512x512) on its own and the container code converts a tile row at a time to RGBA
 * strips; a single-image HEIC holds its one picture. Not encodable: answered as JPEG (Decision 1).
 */
export const heicDecoder: EngineDecoder = {
  inEngine: true,
  ops(header, request, source) {
    expectCodec(header, "hvc1");
    const bytes = heifDecoderBytes(header, de265Bytes);
    return heifOps(header, request, heifDecodeOp(OP.DECODE_HEIC, bytes, source));
  },
};
