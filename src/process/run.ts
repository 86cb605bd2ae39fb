import { decodeGifFrames, type GifFrame, GifWriter, readGifAnimation } from "../codecs/gif";
import { concatenate, type ScriptEncoder } from "../codecs/types";
import type { Deadline } from "../deadline";
import { withEngine } from "../engine/instance";
import { EngineSession } from "../engine/session";
import { badRequest, imageTooLarge, OssError } from "../errors";
import { type FontStore, loadFont } from "../fonts";
import { MIME_TYPES } from "../image/format";
import { readHeader } from "../image/header";
import type { Raster } from "../image/raster";
import type { Timings } from "../timing";
import type { ParsedProcess } from "./parse";
import { type PixelSource, type Plan, planOps, planProcess } from "./plan";
import type { Prepared, ProcessOutput, Resources } from "./types";

/** What a process may reach outside its source: the memory budget, other objects, fonts. */
export interface ProcessEnvironment {
  readonly memoryBudgetBytes: number;
  /** Where decode, each step and encode record their durations (Server-Timing). */
  readonly timings: Timings;
  /** Checked between stages: a request past its deadline stops there. */
  readonly deadline: Deadline;
  /** Reads another object of the source's bucket (watermark images); undefined when missing. */
  readObject(key: string): Promise<Uint8Array | undefined>;
  /** Opens font files of the FONTS bucket for range reads. */
  readonly fonts: FontStore;
  /** A log line for something worth knowing that does not fail the request (a broken profile). */
  warn?(message: string): void;
}

/** Runs a parsed process on the source bytes: header, plan, prepare, one engine run, encode. */
export async function runProcess(
  process: ParsedProcess,
  bytes: Uint8Array,
  environment: ProcessEnvironment,
): Promise<ProcessOutput> {
  const header = readHeader(bytes);
  const [first] = process.actions;
  if (first?.kind === "report" && !first.needsPixels) return first.report({ bytes, header });

  const plan = planProcess(process.actions, header, resourcesFor(environment));
  const { timings, deadline } = environment;
  const prepared = await Promise.all(
    plan.steps.map(({ action, geometry }) => action.prepare?.(geometry, plan.context)),
  );
  checkPrepared(plan, prepared);
  deadline.check();

  {
    if (plan.outputFormat === "gif" && plan.sink === "encoder") {
      const body = writeGif(bytes, plan, prepared, timings);
      return { body, contentType: MIME_TYPES.gif };
    }
    // An animated GIF for an animated output other than GIF (WebP): every frame, in one run.
    const gifFrames =
      plan.animated && header.format === "gif"
        ? await timings.measure("decode", async () => [...decodeGifFrames(bytes)])
        : undefined;
    const pixels =
      plan.decoder.inEngine || gifFrames
        ? undefined
        : await timings.measure("decode", () => scriptDecode(plan, bytes));
    deadline.check();

    // Every stage of the plan has its Server-Timing entry, in order, even when another did its work
    // (a leading resize is done while decoding).
    for (const stage of ["decode", ...plan.steps.map(({ action }) => action.name), "encode"])
      timings.add(stage, 0);
    const call = withEngine([bytes], (engine) => {
      const session = new EngineSession(engine);
      try {
        const source: PixelSource = gifFrames
          ? gifAnimationSource(session, gifFrames, readGifAnimation(bytes).loopCount)
          : pixels
            ? { raster: { pointer: session.put(rgba(pixels)), ...pixels } }
            : { source: 0 };
        const { pointer, values } = session.run(planOps(plan, session, prepared, source));
        const frame =
          plan.encoder?.inEngine === false ? session.pixels({ pointer, ...plan.outputSize }) : undefined;
        return { values, frame, stageMs: session.stageMs };
      } finally {
        session.close();
      }
    });
    for (const [stage, ms] of call.result.stageMs) timings.add(stage, ms);
    for (const warning of call.warnings) environment.warn?.(warning);

    if (first?.kind === "report") return first.report({ bytes, header, meanColour: call.result.values });
    const { frame } = call.result;
    const body = frame
      ? await timings.measure("encode", () =>
          (plan.encoder as ScriptEncoder).encode(
            { ...plan.outputSize, data: frame },
            { quality: plan.quality, progressive: plan.progressive },
          ),
        )
      : concatenate(call.output);
    return { body, contentType: MIME_TYPES[plan.outputFormat] };
  }
}

/** A format still decoded in JavaScript, its failures turned into the OSS answer for damage. */
export async function scriptDecode(plan: Plan, bytes: Uint8Array): Promise<Raster | undefined> {
  const { decoder, header } = plan;
  if (decoder.inEngine) return undefined;
  try {
    return await decoder.decode(bytes, header);
  } catch (error) {
    if (error instanceof OssError) throw error;
    const why =
      error instanceof Error ? error.message : typeof error === "string" ? error : "unreadable data";
    throw badRequest(`The image file may be damaged: the ${header.format} decoder failed (${why}).`);
  }
}

/** GIF frames (composited screens) one after another in engine memory, with their durations. */
function gifAnimationSource(session: EngineSession, frames: GifFrame[], loopCount?: number): PixelSource {
  const [{ image }] = frames;
  const frameBytes = image.width * image.height * 4;
  const all = new Uint8Array(frameBytes * frames.length);
  frames.forEach((frame, i) => {
    all.set(rgba(frame.image), i * frameBytes);
  });
  const delays = new Uint8Array(new Int32Array(frames.map((frame) => frame.delayMs)).buffer);
  return {
    raster: { pointer: session.put(all), width: image.width, height: image.height },
    animation: { frames: frames.length, delays: session.put(delays), loopCount: loopCount ?? -1 },
  };
}

/** A watermark's mark joins the run's memory once its size is known. */
function checkPrepared(plan: Plan, prepared: readonly (Prepared | undefined)[]): void {
  const total = prepared.reduce((sum, each) => sum + (each?.bytes ?? 0), plan.estimatedBytes);
  if (total > plan.budgetBytes) {
    const mib = (bytes: number) => Math.ceil(bytes / (1024 * 1024));
    throw imageTooLarge(
      `Processing this ${plan.header.width}x${plan.header.height} image with its watermarks needs about ${mib(total)} MiB; this service allows ${mib(plan.budgetBytes)} MiB per request.`,
    );
  }
}

const rgba = (raster: Raster) =>
  new Uint8Array(raster.data.buffer, raster.data.byteOffset, raster.data.byteLength);

function resourcesFor(environment: ProcessEnvironment): Resources {
  return {
    memoryBudgetBytes: environment.memoryBudgetBytes,
    async object(key) {
      const bytes = await environment.readObject(key);
      if (!bytes) throw new OssError("WatermarkError", `The watermark object ${key} does not exist.`);
      return { key, bytes, header: readHeader(bytes) };
    },
    font: (name) => loadFont(name, environment.fonts),
  };
}

/**
 * GIF sources written back as GIF: frame by frame, each frame through the engine's steps, so
 * memory holds one frame at a time. A static result (Plan.animated false) is the first frame alone.
 */
function writeGif(
  bytes: Uint8Array,
  plan: Plan,
  prepared: readonly (Prepared | undefined)[],
  timings: Timings,
): Uint8Array {
  const { loopCount } = readGifAnimation(bytes);
  const writer = new GifWriter(
    plan.outputSize.width,
    plan.outputSize.height,
    plan.animated ? loopCount : undefined,
  );
  for (const frame of decodeGifFrames(bytes, plan.animated ? Number.POSITIVE_INFINITY : 1)) {
    // Every stage of the plan has its Server-Timing entry, in order, even when another did its work
    // (a leading resize is done while decoding).
    for (const stage of ["decode", ...plan.steps.map(({ action }) => action.name), "encode"])
      timings.add(stage, 0);
    const call = withEngine([bytes], (engine) => {
      const session = new EngineSession(engine);
      try {
        const raster = {
          pointer: session.put(rgba(frame.image)),
          width: frame.image.width,
          height: frame.image.height,
        };
        const { pointer } = session.run(planOps(plan, session, prepared, { raster }));
        return { pixels: session.pixels({ pointer, ...plan.outputSize }), stageMs: session.stageMs };
      } finally {
        session.close();
      }
    });
    for (const [stage, ms] of call.result.stageMs) timings.add(stage, ms);
    writer.addFrame({ ...plan.outputSize, data: call.result.pixels }, frame.delayMs, frame.palette);
  }
  return writer.finish();
}
