import { badRequest } from "../errors";
import type { Raster } from "../image/raster";
import { concatenate, type OutputTraits, type ScriptDecoder } from "./types";

/** One frame of an animation, composited onto the full logical screen as viewers show it. */
export interface GifFrame {
  readonly image: Raster;
  readonly delayMs: number;
  /** The colours the source frame used (RGB triples): the natural palette to write it back with. */
  readonly palette: Uint8Array;
}

export interface GifAnimation {
  readonly width: number;
  readonly height: number;
  /** NETSCAPE2.0 loop count: 0 loops forever; undefined plays once. */
  readonly loopCount?: number;
}

const damaged = (why: string) => badRequest(`The image file may be damaged: GIF ${why}.`);

const TRAILER = 0x3b;
const IMAGE = 0x2c;
const EXTENSION = 0x21;
const GRAPHIC_CONTROL = 0xf9;
const APPLICATION = 0xff;

/** Disposal methods of the Graphic Control Extension. */
const RESTORE_BACKGROUND = 2;
const RESTORE_PREVIOUS = 3;

class Reader {
  pos = 0;
  constructor(readonly bytes: Uint8Array) {}
  byte(): number {
    if (this.pos >= this.bytes.length) throw damaged("data is truncated");
    return this.bytes[this.pos++];
  }
  u16(): number {
    return this.byte() | (this.byte() << 8);
  }
  take(length: number): Uint8Array {
    if (this.pos + length > this.bytes.length) throw damaged("data is truncated");
    const out = this.bytes.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }
  /** Concatenates a run of data sub-blocks (length-prefixed, ended by a zero length). */
  subBlocks(): Uint8Array {
    const parts: Uint8Array[] = [];
    for (let length = this.byte(); length !== 0; length = this.byte()) parts.push(this.take(length));
    return concatenate(parts);
  }
  skipSubBlocks(): void {
    for (let length = this.byte(); length !== 0; length = this.byte()) this.take(length);
  }
}

export function readGifAnimation(bytes: Uint8Array): GifAnimation {
  const reader = new Reader(bytes);
  reader.take(6);
  const width = reader.u16();
  const height = reader.u16();
  const packed = reader.byte();
  reader.take(2);
  if (packed & 0x80) reader.take(3 << ((packed & 7) + 1));
  let loopCount: number | undefined;
  while (reader.pos < bytes.length) {
    const block = reader.byte();
    if (block !== EXTENSION) break;
    const label = reader.byte();
    if (label === APPLICATION) {
      const id = reader.subBlocks();
      const name = String.fromCharCode(...id.subarray(0, 11));
      if ((name === "NETSCAPE2.0" || name === "ANIMEXTS1.0") && id.length >= 14 && id[11] === 1) {
        loopCount = id[12] | (id[13] << 8);
      }
    } else {
      reader.skipSubBlocks();
    }
  }
  return { width, height, loopCount };
}

/**
 * Decodes frame after frame, compositing each onto the logical screen with the disposal rules, so
 * memory stays at two screens whatever the frame count. Stops after `limit` frames.
 */
export function* decodeGifFrames(bytes: Uint8Array, limit = Number.POSITIVE_INFINITY): Generator<GifFrame> {
  const reader = new Reader(bytes);
  reader.take(6);
  const width = reader.u16();
  const height = reader.u16();
  const packed = reader.byte();
  reader.take(2);
  const globalPalette = packed & 0x80 ? reader.take(3 << ((packed & 7) + 1)) : undefined;

  const canvas = new Uint8ClampedArray(width * height * 4);
  let saved: Uint8ClampedArray | undefined;
  let control = { delayMs: 0, transparent: -1, disposal: 0 };
  let count = 0;

  while (count < limit) {
    if (reader.pos >= bytes.length) break;
    const block = reader.byte();
    if (block === TRAILER) break;
    if (block === EXTENSION) {
      const label = reader.byte();
      if (label === GRAPHIC_CONTROL) {
        const data = reader.subBlocks();
        if (data.length >= 4) {
          control = {
            disposal: (data[0] >> 2) & 7,
            delayMs: (data[1] | (data[2] << 8)) * 10,
            transparent: data[0] & 1 ? data[3] : -1,
          };
        }
      } else {
        reader.skipSubBlocks();
      }
      continue;
    }
    if (block !== IMAGE) throw damaged(`has an unknown block 0x${block.toString(16)}`);

    const left = reader.u16();
    const top = reader.u16();
    const frameWidth = reader.u16();
    const frameHeight = reader.u16();
    const flags = reader.byte();
    const palette = flags & 0x80 ? reader.take(3 << ((flags & 7) + 1)) : globalPalette;
    if (!palette) throw damaged("frame has no colour table");
    const minCodeSize = reader.byte();
    const indices = lzwDecode(reader.subBlocks(), minCodeSize, frameWidth * frameHeight);

    if (control.disposal === RESTORE_PREVIOUS) saved = canvas.slice();
    drawFrame(canvas, width, height, indices, palette, control.transparent, {
      left,
      top,
      width: frameWidth,
      height: frameHeight,
      interlaced: (flags & 0x40) !== 0,
    });
    yield { image: { width, height, data: canvas.slice() }, delayMs: control.delayMs, palette };
    count++;

    if (control.disposal === RESTORE_BACKGROUND) {
      clearRect(canvas, width, height, left, top, frameWidth, frameHeight);
    } else if (control.disposal === RESTORE_PREVIOUS && saved) {
      canvas.set(saved);
    }
    control = { delayMs: 0, transparent: -1, disposal: 0 };
  }
  if (count === 0) throw damaged("has no frames");
}

interface FrameRect {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
  readonly interlaced: boolean;
}

/** Interlaced GIFs store rows in four passes: every 8th from 0, every 8th from 4, 4th from 2, 2nd from 1. */
function* rowOrder(height: number, interlaced: boolean): Generator<number> {
  if (!interlaced) {
    for (let row = 0; row < height; row++) yield row;
    return;
  }
  for (const [start, step] of [
    [0, 8],
    [4, 8],
    [2, 4],
    [1, 2],
  ]) {
    for (let row = start; row < height; row += step) yield row;
  }
}

function drawFrame(
  canvas: Uint8ClampedArray,
  width: number,
  height: number,
  indices: Uint8Array,
  palette: Uint8Array,
  transparent: number,
  rect: FrameRect,
): void {
  let i = 0;
  for (const row of rowOrder(rect.height, rect.interlaced)) {
    const y = rect.top + row;
    for (let col = 0; col < rect.width; col++, i++) {
      const x = rect.left + col;
      const index = indices[i];
      if (index === transparent || x >= width || y >= height || 3 * index + 2 >= palette.length) continue;
      const o = (y * width + x) * 4;
      canvas[o] = palette[3 * index];
      canvas[o + 1] = palette[3 * index + 1];
      canvas[o + 2] = palette[3 * index + 2];
      canvas[o + 3] = 255;
    }
  }
}

function clearRect(
  canvas: Uint8ClampedArray,
  width: number,
  height: number,
  left: number,
  top: number,
  w: number,
  h: number,
) {
  for (let y = top; y < Math.min(height, top + h); y++) {
    canvas.fill(0, (y * width + left) * 4, (y * width + Math.min(width, left + w)) * 4);
  }
}

const MAX_CODE_BITS = 12;

/** Variable-width LZW as GIF uses it (LSB-first codes). Missing data leaves the rest index 0. */
function lzwDecode(data: Uint8Array, minCodeSize: number, pixelCount: number): Uint8Array {
  if (minCodeSize < 2 || minCodeSize > 8) throw damaged("has an invalid LZW code size");
  const out = new Uint8Array(pixelCount);
  const clear = 1 << minCodeSize;
  const end = clear + 1;
  const prefix = new Int16Array(1 << MAX_CODE_BITS);
  const suffix = new Uint8Array(1 << MAX_CODE_BITS);
  const first = new Uint8Array(1 << MAX_CODE_BITS);
  const lengths = new Uint16Array(1 << MAX_CODE_BITS);
  for (let code = 0; code < clear; code++) {
    prefix[code] = -1;
    suffix[code] = code;
    first[code] = code;
    lengths[code] = 1;
  }
  let codeSize = minCodeSize + 1;
  let next = end + 1;
  let previous = -1;
  let written = 0;
  let bits = 0;
  let buffer = 0;
  for (let pos = 0; pos < data.length && written < pixelCount; ) {
    while (bits < codeSize && pos < data.length) {
      buffer |= data[pos++] << bits;
      bits += 8;
    }
    if (bits < codeSize) break;
    const code = buffer & ((1 << codeSize) - 1);
    buffer >>>= codeSize;
    bits -= codeSize;
    if (code === clear) {
      codeSize = minCodeSize + 1;
      next = end + 1;
      previous = -1;
      continue;
    }
    if (code === end) break;
    if (previous < 0) {
      if (code >= clear) throw damaged("LZW data is corrupt");
      out[written++] = code;
      previous = code;
      continue;
    }
    const known = code < next;
    if (!known && code !== next) throw damaged("LZW data is corrupt");
    if (next < 1 << MAX_CODE_BITS) {
      prefix[next] = previous;
      first[next] = first[previous];
      suffix[next] = known ? first[code] : first[previous];
      lengths[next] = lengths[previous] + 1;
      next++;
      if (next === 1 << codeSize && codeSize < MAX_CODE_BITS) codeSize++;
    }
    // Write the string for `code` back to front.
    const length = lengths[code];
    let at = Math.min(written + length, pixelCount) - 1;
    let walk = code;
    for (let skip = written + length - 1 - at; skip > 0; skip--) walk = prefix[walk];
    while (walk >= 0 && at >= written) {
      out[at--] = suffix[walk];
      walk = prefix[walk];
    }
    written = Math.min(written + length, pixelCount);
    previous = code;
  }
  return out;
}

/** First frame only: what every non-animated output is made from. */
export const gifDecoder: ScriptDecoder = {
  inEngine: false,
  // The screen canvas, the frame copy, the saved screen for "restore previous", and the indices.
  bytesPerPixel: 13,
  async decode(bytes) {
    const [frame] = decodeGifFrames(bytes, 1);
    return frame.image;
  },
};

/** GIF is written only for GIF sources, frame by frame with each frame's own palette. */
export const gifOutput: OutputTraits & { readonly bytesPerPixel: number } = {
  hasAlpha: true,
  maxSide: 65535,
  // The index buffer, and the compressed frame kept until the whole file is written.
  bytesPerPixel: 2,
};

/** Writes frames with their source palette (nearest colour), pixels under half alpha transparent. */
export class GifWriter {
  private readonly parts: Uint8Array[] = [];

  constructor(width: number, height: number, loopCount?: number) {
    const header = new Uint8Array(13);
    header.set([0x47, 0x49, 0x46, 0x38, 0x39, 0x61]);
    const view = new DataView(header.buffer);
    view.setUint16(6, width, true);
    view.setUint16(8, height, true);
    this.parts.push(header);
    if (loopCount !== undefined) {
      const netscape = [0x21, 0xff, 0x0b, ..."NETSCAPE2.0"].map((c) =>
        typeof c === "string" ? c.charCodeAt(0) : c,
      );
      this.parts.push(new Uint8Array([...netscape, 3, 1, loopCount & 255, loopCount >> 8, 0]));
    }
  }

  addFrame(image: Raster, delayMs: number, sourcePalette: Uint8Array): void {
    const { palette, transparent, indices } = mapToPalette(image, sourcePalette);
    const bitsPerEntry = Math.max(1, Math.ceil(Math.log2(palette.length / 3)));
    const tableSize = 3 << bitsPerEntry;
    const control = new Uint8Array([
      0x21,
      0xf9,
      4,
      (RESTORE_BACKGROUND << 2) | (transparent >= 0 ? 1 : 0),
      Math.round(delayMs / 10) & 255,
      Math.round(delayMs / 10) >> 8,
      transparent >= 0 ? transparent : 0,
      0,
    ]);
    const descriptor = new Uint8Array(10);
    const view = new DataView(descriptor.buffer);
    descriptor[0] = IMAGE;
    view.setUint16(5, image.width, true);
    view.setUint16(7, image.height, true);
    descriptor[9] = 0x80 | (bitsPerEntry - 1);
    const table = new Uint8Array(tableSize);
    table.set(palette);
    const minCodeSize = Math.max(2, bitsPerEntry);
    this.parts.push(
      control,
      descriptor,
      table,
      new Uint8Array([minCodeSize]),
      toSubBlocks(lzwEncode(indices, minCodeSize)),
    );
  }

  finish(): Uint8Array {
    this.parts.push(new Uint8Array([TRAILER]));
    const out = new Uint8Array(this.parts.reduce((sum, part) => sum + part.length, 0));
    let at = 0;
    for (const part of this.parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }
}

/**
 * Maps each pixel to the nearest colour of the palette (cached per colour); adds a transparent entry
 * when the image has transparency and the palette has room, else composites such pixels on white.
 */
function mapToPalette(image: Raster, sourcePalette: Uint8Array) {
  const colours = Math.min(256, Math.floor(sourcePalette.length / 3));
  const data = image.data;
  let transparentPixels = false;
  for (let i = 3; i < data.length && !transparentPixels; i += 4) transparentPixels = data[i] < 128;
  const transparent = transparentPixels && colours < 256 ? colours : -1;
  const palette = new Uint8Array(3 * (colours + (transparent >= 0 ? 1 : 0)));
  palette.set(sourcePalette.subarray(0, 3 * colours));

  const nearest = new Map<number, number>();
  const indices = new Uint8Array(image.width * image.height);
  for (let p = 0, i = 0; p < indices.length; p++, i += 4) {
    const alpha = data[i + 3];
    if (alpha < 128 && transparent >= 0) {
      indices[p] = transparent;
      continue;
    }
    // Pixels that must stay opaque are composited on white first, as JPEG output is.
    const over = alpha === 255 ? 1 : alpha / 255;
    const r = Math.round(data[i] * over + 255 * (1 - over));
    const g = Math.round(data[i + 1] * over + 255 * (1 - over));
    const b = Math.round(data[i + 2] * over + 255 * (1 - over));
    const key = (r << 16) | (g << 8) | b;
    let index = nearest.get(key);
    if (index === undefined) {
      let best = Number.POSITIVE_INFINITY;
      index = 0;
      for (let c = 0; c < colours; c++) {
        const dr = r - palette[3 * c];
        const dg = g - palette[3 * c + 1];
        const db = b - palette[3 * c + 2];
        const distance = 2 * dr * dr + 4 * dg * dg + 3 * db * db;
        if (distance < best) {
          best = distance;
          index = c;
        }
      }
      nearest.set(key, index);
    }
    indices[p] = index;
  }
  return { palette, transparent, indices };
}

function lzwEncode(indices: Uint8Array, minCodeSize: number): Uint8Array {
  const clear = 1 << minCodeSize;
  const end = clear + 1;
  const out: number[] = [];
  let buffer = 0;
  let bits = 0;
  let codeSize = minCodeSize + 1;
  const emit = (code: number) => {
    buffer |= code << bits;
    bits += codeSize;
    while (bits >= 8) {
      out.push(buffer & 255);
      buffer >>>= 8;
      bits -= 8;
    }
  };
  // Dictionary of (prefix code, next index) -> code, reset when codes run out.
  let dictionary = new Map<number, number>();
  let next = end + 1;
  emit(clear);
  let current = indices.length > 0 ? indices[0] : 0;
  for (let i = 1; i < indices.length; i++) {
    const key = (current << 8) | indices[i];
    const found = dictionary.get(key);
    if (found !== undefined) {
      current = found;
      continue;
    }
    emit(current);
    if (next < 1 << MAX_CODE_BITS) {
      dictionary.set(key, next++);
      if (next > 1 << codeSize && codeSize < MAX_CODE_BITS) codeSize++;
    } else {
      emit(clear);
      dictionary = new Map();
      next = end + 1;
      codeSize = minCodeSize + 1;
    }
    current = indices[i];
  }
  emit(current);
  emit(end);
  if (bits > 0) out.push(buffer & 255);
  return new Uint8Array(out);
}

function toSubBlocks(data: Uint8Array): Uint8Array {
  const blocks = Math.ceil(data.length / 255);
  const out = new Uint8Array(data.length + blocks + 1);
  let at = 0;
  for (let pos = 0; pos < data.length; pos += 255) {
    const chunk = data.subarray(pos, pos + 255);
    out[at++] = chunk.length;
    out.set(chunk, at);
    at += chunk.length;
  }
  out[at] = 0;
  return out;
}
