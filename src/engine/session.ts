import type { Size } from "../image/raster";
import type { Engine } from "./instance";
import { encodeOps, type Op } from "./ops";
import { captureOp, rasterOp } from "./stages";

/** Pixels in engine memory: an RGBA raster, freed when the session ends. */
export interface EngineRaster extends Size {
  readonly pointer: number;
}

/**
 * One request's use of the engine, inside one synchronous engine call: runs of ops (the request's
 * own, and before it a watermark's), and rasters that live until the call ends. Time is summed per
 * Server-Timing stage.
 */
export class EngineSession {
  private readonly owned: number[] = [];
  readonly stageMs = new Map<string, number>();

  constructor(readonly engine: Engine) {}

  /** Copies bytes into engine memory for the rest of the session. */
  put(bytes: Uint8Array): number {
    const pointer = this.engine.put(bytes);
    this.owned.push(pointer);
    return pointer;
  }

  /** Takes ownership of engine memory (a capture's pixels, a mark). */
  own(pointer: number): number {
    if (pointer) this.owned.push(pointer);
    return pointer;
  }

  /** Runs a plan; answers the sink's result pointer (owned by the session) and values. */
  run(ops: readonly Op[]): { pointer: number; values: [number, number, number] } {
    const words = this.engine.put(encodeOps(ops));
    try {
      const { exports } = this.engine;
      const pointer = this.own(exports.pipeline_run(words, ops.length));
      ops.forEach((each, i) => {
        this.stageMs.set(each.stage, (this.stageMs.get(each.stage) ?? 0) + exports.pipeline_stage_ms(i));
      });
      const value = (i: number) => exports.pipeline_result_value(i);
      return { pointer, values: [value(0), value(1), value(2)] };
    } finally {
      this.engine.free(words);
    }
  }

  /** Runs ops that end in a capture of `size` pixels, and keeps them. */
  capture(ops: readonly Op[], size: Size): EngineRaster {
    const { pointer } = this.run([...ops, captureOp(size)]);
    return { pointer, ...size };
  }

  /** A raster turned into the first op of a run. */
  rasterSource(raster: EngineRaster, stage = "decode"): Op {
    return rasterOp(raster.pointer, raster, stage);
  }

  /** Copies RGBA pixels out of the engine. */
  pixels(raster: EngineRaster): Uint8ClampedArray {
    const bytes = this.engine.read(raster.pointer, raster.width * raster.height * 4);
    return new Uint8ClampedArray(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Frees everything the session owns. */
  close(): void {
    for (const pointer of this.owned.splice(0)) this.engine.free(pointer);
  }
}
