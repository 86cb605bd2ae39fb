import { concatenate } from "../codecs/types";
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
    const pixels = plan.decoder.inEngine
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
        const source: PixelSource = pixels
          ? { raster: { pointer: session.put(rgba(pixels)), ...pixels } }
          : { source: 0 };
        const { values } = session.run(planOps(plan, session, prepared, source));
        return { values, stageMs: session.stageMs };
      } finally {
        session.close();
      }
    });
    for (const [stage, ms] of call.result.stageMs) timings.add(stage, ms);
    for (const warning of call.warnings) environment.warn?.(warning);

    if (first?.kind === "report") return first.report({ bytes, header, meanColour: call.result.values });
    return { body: concatenate(call.output), contentType: MIME_TYPES[plan.outputFormat] };
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
