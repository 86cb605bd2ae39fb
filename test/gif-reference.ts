// An independent GIF decoder for the tests, in JavaScript: the service's own decoder and encoder
// are in the engine (wasm/src/codecs/gif.c). It composites frames as viewers do.
import { concatenate } from "../src/codecs/types";
import type { Raster } from "../src/image/raster";

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

const damaged = (why: string) => new Error(`GIF ${why}`);

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

/** One frame for writeGif: indices in display order, row by row. */
export interface GifFrameSpec {
  readonly left?: number;
  readonly top?: number;
  readonly width: number;
  readonly height: number;
  readonly indices: ArrayLike<number>;
  /** A local colour table (RGB triples); the global one otherwise. */
  readonly palette?: readonly number[];
  readonly delayMs?: number;
  readonly disposal?: number;
  readonly transparent?: number;
  readonly interlaced?: boolean;
}

/**
 * A GIF written by hand for the tests, with any disposal, transparency, interlacing and local
 * tables. Its LZW data is the simplest valid kind: one code per pixel, a clear code before the
 * table would widen the codes.
 */
export function writeGif(spec: {
  width: number;
  height: number;
  palette?: readonly number[];
  loopCount?: number;
  frames: readonly GifFrameSpec[];
}): Uint8Array {
  const out: number[] = [];
  const u16 = (value: number) => out.push(value & 255, value >> 8);
  const table = (palette: readonly number[]) => {
    const bits = Math.max(1, Math.ceil(Math.log2(palette.length / 3)));
    const entries = [...palette, ...new Array(3 * (1 << bits) - palette.length).fill(0)];
    return { bits, entries };
  };
  out.push(...[..."GIF89a"].map((c) => c.charCodeAt(0)));
  u16(spec.width);
  u16(spec.height);
  const global = spec.palette ? table(spec.palette) : undefined;
  out.push(global ? 0x80 | ((global.bits - 1) << 4) | (global.bits - 1) : 0, 0, 0);
  if (global) out.push(...global.entries);
  if (spec.loopCount !== undefined) {
    out.push(0x21, 0xff, 0x0b, ...[..."NETSCAPE2.0"].map((c) => c.charCodeAt(0)), 3, 1);
    u16(spec.loopCount);
    out.push(0);
  }
  for (const frame of spec.frames) {
    const transparent = frame.transparent ?? -1;
    out.push(0x21, 0xf9, 4, ((frame.disposal ?? 0) << 2) | (transparent >= 0 ? 1 : 0));
    u16(Math.round((frame.delayMs ?? 0) / 10));
    out.push(Math.max(0, transparent), 0);
    out.push(IMAGE);
    u16(frame.left ?? 0);
    u16(frame.top ?? 0);
    u16(frame.width);
    u16(frame.height);
    const local = frame.palette ? table(frame.palette) : undefined;
    out.push((local ? 0x80 | (local.bits - 1) : 0) | (frame.interlaced ? 0x40 : 0));
    if (local) out.push(...local.entries);
    const bits = (local ?? global)?.bits ?? 1;
    const minCodeSize = Math.max(2, bits);
    const rows = [...rowOrder(frame.height, frame.interlaced === true)];
    const indices = rows.flatMap((row) =>
      Array.from({ length: frame.width }, (_, x) => frame.indices[row * frame.width + x]),
    );
    out.push(minCodeSize, ...subBlocks(plainLzw(indices, minCodeSize)));
  }
  out.push(TRAILER);
  return new Uint8Array(out);
}

function plainLzw(indices: readonly number[], minCodeSize: number): number[] {
  const clear = 1 << minCodeSize;
  const size = minCodeSize + 1;
  const bytes: number[] = [];
  let buffer = 0;
  let bits = 0;
  const emit = (code: number) => {
    buffer |= code << bits;
    bits += size;
    while (bits >= 8) {
      bytes.push(buffer & 255);
      buffer >>= 8;
      bits -= 8;
    }
  };
  // After a clear, the decoder widens its codes once clear - 1 codes have come: stay below.
  for (let i = 0; i < indices.length; i += clear - 2) {
    emit(clear);
    for (const index of indices.slice(i, i + clear - 2)) emit(index);
  }
  emit(clear + 1);
  if (bits > 0) bytes.push(buffer & 255);
  return bytes;
}

function subBlocks(data: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < data.length; i += 255) {
    const chunk = data.slice(i, i + 255);
    out.push(chunk.length, ...chunk);
  }
  out.push(0);
  return out;
}
