import { OP, op } from "../engine/ops";
import type { ImageHeader } from "../image/header";
import { regionOps } from "./frame";
import type { EngineDecoder, EngineEncoder } from "./types";

const BLOCK_OVERHEAD = 16;
const SINK_BYTES = 256;
/** wasm/src/codecs/bmp.c: strips of 16 rows, RGBA and as stored (at most 4 bytes a pixel). */
const STRIP_ROWS = 16;
/** An RLE file's reader: a 64 KiB buffer. */
const RLE_READER_BYTES = 65536 + 32;

/** The decoder's memory: two strips, and an RLE file's pixels as indices. */
export function bmpDecoderBytes(header: ImageHeader): number {
  const { width, height } = header;
  const strips = STRIP_ROWS * (4 * width + (Math.ceil((width * 32) / 32) * 4 + 4));
  const rle = header.bmpRle ? width * height + RLE_READER_BYTES : 0;
  return strips + rle + 4 * BLOCK_OVERHEAD;
}

/**
 * The engine's BMP decoder (wasm/src/codecs/bmp.c): 1/4/8-bit palette, 16/24/32-bit (BI_RGB,
 * BI_BITFIELDS), bottom-up or top-down, RLE8/RLE4. Rows stream from the source a strip at a time;
 * crop and resampling follow.
 */
export const bmpDecoder: EngineDecoder = {
  inEngine: true,
  ops(header, request, source) {
    const frame = { width: header.width, height: header.height };
    return [
      op(OP.DECODE_BMP, "decode", bmpDecoderBytes(header), source),
      ...regionOps(frame, request, header.hasAlpha),
    ];
  },
};

/** The 64 KiB output buffer and one stored row. */
const ENCODER_FIXED_BYTES = 65536 + SINK_BYTES + 3 * BLOCK_OVERHEAD;

/**
 * 24-bit BMP, or 32-bit with an alpha mask (V4 header) when the pixels may be transparent;
 * top-down rows, written as they come.
 */
export const bmpEncoder: EngineEncoder = {
  hasAlpha: true,
  maxSide: 2 ** 31 - 1,
  op(size, _options, hasAlpha) {
    const stride = Math.ceil((size.width * (hasAlpha ? 32 : 24)) / 32) * 4;
    return op(
      OP.ENCODE_BMP,
      "encode",
      ENCODER_FIXED_BYTES + stride,
      size.width,
      size.height,
      hasAlpha ? 1 : 0,
    );
  },
};
