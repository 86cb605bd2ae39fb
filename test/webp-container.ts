// Reading WebP files chunk by chunk in the tests: an animation's canvas, loop count and frames
// (ANMF), each frame's bitstream rewrapped as a still WebP for an independent decoder.

export interface WebpChunk {
  readonly type: string;
  readonly data: Uint8Array;
}

/** The chunks of a RIFF/WEBP file (or of an ANMF payload after its 16-byte header). */
export function chunks(bytes: Uint8Array, from = 12, to = bytes.length): WebpChunk[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const found: WebpChunk[] = [];
  for (let at = from; at + 8 <= to; ) {
    const type = String.fromCharCode(...bytes.subarray(at, at + 4));
    const length = view.getUint32(at + 4, true);
    found.push({ type, data: bytes.subarray(at + 8, at + 8 + length) });
    at += 8 + length + (length & 1);
  }
  return found;
}

const u24 = (data: Uint8Array, at: number) => data[at] | (data[at + 1] << 8) | (data[at + 2] << 16);

function riff(parts: Uint8Array[]): Uint8Array {
  const body = parts.reduce((sum, part) => sum + part.length, 0);
  const out = new Uint8Array(12 + body);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode("RIFF"), 0);
  view.setUint32(4, 4 + body, true);
  out.set(new TextEncoder().encode("WEBP"), 8);
  let at = 12;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + data.length + (data.length & 1));
  out.set(new TextEncoder().encode(type), 0);
  new DataView(out.buffer).setUint32(4, data.length, true);
  out.set(data, 8);
  return out;
}

export interface AnimationFrame {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly duration: number;
  /** The frame's own bitstream as a still WebP, for an independent decoder. */
  readonly still: Uint8Array;
}

/** An animated WebP read chunk by chunk: canvas, loop count, every ANMF frame. */
export function animation(bytes: Uint8Array) {
  const all = chunks(bytes);
  const vp8x = all.find(({ type }) => type === "VP8X");
  const anim = all.find(({ type }) => type === "ANIM");
  if (!vp8x || !anim) return undefined;
  const frames: AnimationFrame[] = all
    .filter(({ type }) => type === "ANMF")
    .map(({ data }) => {
      const width = u24(data, 6) + 1;
      const height = u24(data, 9) + 1;
      const inner = chunks(data, 16);
      const alpha = inner.some(({ type }) => type === "ALPH");
      const header = new Uint8Array(10);
      header[0] = alpha ? 0x10 : 0;
      header.set([(width - 1) & 255, ((width - 1) >> 8) & 255, (width - 1) >> 16], 4);
      header.set([(height - 1) & 255, ((height - 1) >> 8) & 255, (height - 1) >> 16], 7);
      const still = riff([chunk("VP8X", header), ...inner.map(({ type, data }) => chunk(type, data))]);
      return { x: 2 * u24(data, 0), y: 2 * u24(data, 3), width, height, duration: u24(data, 12), still };
    });
  return {
    width: u24(vp8x.data, 4) + 1,
    height: u24(vp8x.data, 7) + 1,
    loopCount: anim.data[4] | (anim.data[5] << 8),
    frames,
  };
}
