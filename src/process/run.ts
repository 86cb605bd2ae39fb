import { decodeImage, encoderFor } from "../codecs";
import { decodeGifFrames, GifWriter, readGifAnimation } from "../codecs/gif";
import type { Encoder } from "../codecs/types";
import type { Deadline } from "../deadline";
import { OssError } from "../errors";
import { type FontStore, loadFont } from "../fonts";
import { MIME_TYPES } from "../image/format";
import { readHeader } from "../image/header";
import { applyOrientation } from "../image/orient";
import type { Raster } from "../image/raster";
import type { Timings } from "../timing";
import { type ParsedProcess, parseProcess } from "./parse";
import { type Plan, planProcess } from "./plan";
import type { ProcessOutput, Resources } from "./types";

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
}

/** Runs a parsed process on the source bytes: header, plan, decode, steps, encode. */
export async function runProcess(
  process: ParsedProcess,
  bytes: Uint8Array,
  environment: ProcessEnvironment,
): Promise<ProcessOutput> {
  const header = readHeader(bytes);
  const [first] = process.actions;
  if (first?.kind === "report" && !first.needsPixels) return first.report({ bytes, header });

  const plan = planProcess(
    process.actions,
    header,
    bytes.length,
    environment.memoryBudgetBytes,
    resourcesFor(environment),
  );
  const contentType = MIME_TYPES[plan.outputFormat];
  const { timings, deadline } = environment;
  if (plan.outputFormat === "gif") {
    return { body: await timings.measure("gif", () => writeGif(bytes, plan)), contentType };
  }

  const image = await timings.measure("decode", async () =>
    applyOrientation(await decodeImage(bytes, header, plan.decode), plan.orientation),
  );
  if (first?.kind === "report") return first.report({ bytes, header, pixels: image });
  const encoder = encoderFor(plan.outputFormat) as Encoder;
  const processed = await applySteps(image, plan, { timings, deadline });
  deadline.check();
  const body = await timings.measure("encode", () =>
    encoder.encode(processed, { quality: plan.quality, progressive: plan.progressive }),
  );
  return { body, contentType };
}

function resourcesFor(environment: ProcessEnvironment): Resources {
  const resources: Resources = {
    /** Another image of the bucket, through its own process string and memory plan (watermarks). */
    async image(key, value) {
      const bytes = await environment.readObject(key);
      if (!bytes) throw new OssError("WatermarkError", `The watermark object ${key} does not exist.`);
      const header = readHeader(bytes);
      const plan = planProcess(
        parseProcess(value).actions,
        header,
        bytes.length,
        environment.memoryBudgetBytes,
        resources,
      );
      const decoded = applyOrientation(await decodeImage(bytes, header, plan.decode), plan.orientation);
      return applySteps(decoded, plan);
    },
    font: (name) => loadFont(name, environment.fonts),
  };
  return resources;
}

/** Runs the plan's steps; a request's own image (not a watermark's or a GIF frame's) is timed. */
async function applySteps(
  source: Raster,
  plan: Plan,
  request?: { timings: Timings; deadline: Deadline },
): Promise<Raster> {
  let image = source;
  for (const { action, geometry } of plan.steps) {
    request?.deadline.check();
    const input = image;
    const run = () => action.apply(input, geometry, plan.context);
    image = await (request ? request.timings.measure(action.name, run) : run());
  }
  return image;
}

/**
 * GIF sources written back as GIF: frame by frame, so memory holds one frame at a time. A static
 * result (Plan.animated false) is the first frame alone.
 */
async function writeGif(bytes: Uint8Array, plan: Plan): Promise<Uint8Array> {
  const { loopCount } = readGifAnimation(bytes);
  const writer = new GifWriter(
    plan.outputSize.width,
    plan.outputSize.height,
    plan.animated ? loopCount : undefined,
  );
  for (const frame of decodeGifFrames(bytes, plan.animated ? Number.POSITIVE_INFINITY : 1)) {
    writer.addFrame(await applySteps(frame.image, plan), frame.delayMs, frame.palette);
  }
  return writer.finish();
}
