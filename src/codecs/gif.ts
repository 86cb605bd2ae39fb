import { OP, op } from "../engine/ops";
import type { ImageHeader } from "../image/header";
import type { Size } from "../image/raster";
import { regionOps } from "./frame";
import type { EngineDecoder, EngineEncoder } from "./types";

/** What dlmalloc adds to every block, and a sink's own struct. */
const BLOCK_OVERHEAD = 16;
const SINK_BYTES = 256;
/** wasm/src/codecs/gif.c: the 64 KiB input buffer (Reader), the LZW tables, 16-row strips. */
const READER_BYTES = 65536 + 16;
const LZW_BYTES = 4096 * 7;
const STRIP_ROWS = 16;

/**
 * The engine's GIF decoder (wasm/src/codecs/gif.c): the logical screen, frames composited onto it
 * one at a time, and a second screen when an animation restores frames to the previous one.
 */
export function gifDecoderBytes(header: ImageHeader, frames: number): number {
  const screen = 4 * header.width * header.height;
  const saved = frames > 1 && header.gifRestoresPrevious ? screen : 0;
  return READER_BYTES + LZW_BYTES + screen + saved + 4 * header.width * STRIP_ROWS + 5 * BLOCK_OVERHEAD;
}

/**
 * Frames are decoded one at a time onto the logical screen (disposal methods, transparency, local
 * and global colour tables, interlacing) and each screen is pushed as rows; an animation that
 * stays animated pushes every frame with its delay, anything else the first frame alone. Crop and
 * resampling follow the decoder.
 */
export const gifDecoder: EngineDecoder = {
  inEngine: true,
  ops(header, request, source) {
    const frames = request.frames ?? 1;
    const frame = { width: header.width, height: header.height };
    return [
      op(
        OP.DECODE_GIF,
        "decode",
        gifDecoderBytes(header, frames),
        source,
        frames > 1 ? 0 : 1,
        header.gifRestoresPrevious ? 1 : 0,
      ),
      ...regionOps(frame, request, true),
    ];
  },
};

/** 32,768 histogram bins (15-bit colours): 32-byte sums, 12-byte median-cut entries, two indices. */
const QUANTISER_BYTES = 32768 * (32 + 12 + 2 + 1);
/** The 64 KiB output buffer, the LZW hash table (8,191 codes and keys) and the sink's own struct. */
const ENCODER_FIXED_BYTES = 65536 + 8191 * 6 + 512 + 8 * 1024 + SINK_BYTES + 10 * BLOCK_OVERHEAD;

/** The GIF encoder's memory: three frames for an animation (shown, waiting, arriving), one for a still. */
export function gifEncoderBytes(size: Size, frames: number): number {
  const pixels = size.width * size.height;
  return ENCODER_FIXED_BYTES + QUANTISER_BYTES + pixels * (frames > 1 ? 12 : 4) + pixels;
}

/**
 * GIF output (for GIF sources): every frame as the bounding box of what changed, unchanged pixels
 * transparent, with the exact colours when a frame has at most 256 and a median cut otherwise; the
 * first frame's palette is shared by the frames it suits. Pixels under half alpha are
 * transparent, others composited on white.
 */
export const gifEncoder: EngineEncoder = {
  hasAlpha: true,
  maxSide: 65535,
  op(size, { frames = 1 }) {
    return op(OP.ENCODE_GIF, "encode", gifEncoderBytes(size, frames), size.width, size.height, frames);
  },
};
