import { OP, type Op, op } from "../engine/ops";
import { colorOp, cropOp, resampleOp } from "../engine/stages";
import { badRequest } from "../errors";
import type { ImageHeader } from "../image/header";
import { type TiffLayout, tiffColours, unsupportedTiff } from "../image/tiff";
import type { DecodeRequest, EngineDecoder } from "./types";

/**
 * The decoder's fixed part (wasm/src/codecs/tiff.c): libtiff's TIFF struct and directory, its
 * codec's state (LZW's code table, zlib's inflate window), the sink structs.
 */
const DECODER_FIXED_BYTES = 256 * 1024;
/** libjpeg's state for JPEG-compressed TIFFs, and its row buffers per column (as src/codecs/jpeg.ts). */
const JPEG_FIXED_BYTES = 160 * 1024;
const JPEG_BYTES_PER_COLUMN = 128;
const BLOCK_OVERHEAD = 16;
/** Rows pushed at a time from a striped TIFF (tiff.c STRIP_ROWS). */
const STRIP_ROWS = 16;

const storedBytes = (layout: TiffLayout, pixels: number) =>
  Math.ceil((pixels * layout.samplesPerPixel * layout.bitsPerSample) / 8);

/**
 * What the decoder holds: the directory's tag data (strip and tile tables widened to 64 bits),
 * one compressed strip or tile (libtiff reads each whole; libtiff's build has no chunked strip
 * reading), and either a decoded scanline and a
 * strip of RGBA rows, or a decoded tile and a band of RGBA rows as tall as a tile.
 */
export function tiffDecoderBytes(header: ImageHeader, layout: TiffLayout): number {
  const width = header.width;
  const directory = 2 * layout.tagBytes + 16 * layout.chunks;
  // libtiff reads a strip or tile over 1 MiB into a buffer it grows (tif_read.c TIFFReadAndRealloc):
  // while it moves, the old and the new buffer are both held.
  const chunk = Math.ceil((layout.largestChunk + 1) / 1024) * 1024 + BLOCK_OVERHEAD;
  const compressed = layout.largestChunk > 1024 * 1024 ? 2 * chunk : chunk;
  const rows = layout.tile
    ? storedBytes(layout, layout.tile.width * layout.tile.height) + 4 * width * layout.tile.height
    : storedBytes(layout, width) + 4 * width * STRIP_ROWS;
  const jpeg =
    layout.compression === 7 ? JPEG_FIXED_BYTES + JPEG_BYTES_PER_COLUMN * (layout.tile?.width ?? width) : 0;
  return DECODER_FIXED_BYTES + directory + compressed + rows + jpeg + 4 * BLOCK_OVERHEAD;
}

/**
 * The codec engine's TIFF decoder (first page only): strips or tiles as stored, pushed as RGBA
 * rows, then the region and size the plan asks for and colour management (CMYK inks before the
 * resampling, by the embedded profile or the default CMYK one). Variants it cannot decode are a
 * 400 naming them, before anything is read.
 */
export const tiffDecoder: EngineDecoder = {
  inEngine: true,
  ops(header, { region, size }: DecodeRequest, source) {
    const layout = header.tiff;
    if (!layout) throw badRequest("The image file may be damaged: its TIFF directory cannot be read.");
    const unsupported = unsupportedTiff(layout);
    if (unsupported) throw badRequest(`Processing ${unsupported} is not supported.`);
    const whole = { width: header.width, height: header.height };
    const cmyk = tiffColours(layout) === 4;
    const ops: Op[] = [
      op(
        OP.DECODE_TIFF,
        "decode",
        tiffDecoderBytes(header, layout),
        source,
        header.width,
        header.height,
        cmyk ? 1 : 0,
      ),
    ];
    if (cmyk) ops.push(colorOp(whole, true, header.iccBytes));
    const cropped =
      region.x !== 0 || region.y !== 0 || region.width !== whole.width || region.height !== whole.height;
    if (size.width !== region.width || size.height !== region.height) {
      ops.push(resampleOp(whole, size, header.hasAlpha, "decode", region));
    } else if (cropped) {
      ops.push(cropOp(whole, region, "decode"));
    }
    if (!cmyk) ops.push(colorOp(size, false, header.iccBytes));
    return ops;
  },
};
