import { decoderFor, outputFor } from "../codecs";
import { regionOps } from "../codecs/frame";
import { jpegRequantizeOp } from "../codecs/jpeg";
import {
  type DecodeRequest,
  type Decoder,
  type Encoder,
  type OutputTraits,
  wholeImage,
} from "../codecs/types";
import { OP, type Op, opsBytes } from "../engine/ops";
import {
  captureOp,
  colorOp,
  meanOp,
  orientedSize,
  orientFrameBytes,
  orientOp,
  rasterOp,
  withPasses,
} from "../engine/stages";
import { imageTooLarge } from "../errors";
import type { ImageFormat } from "../image/format";
import type { ImageHeader } from "../image/header";
import { storedRect } from "../image/orient";
import type { Rect, Size } from "../image/raster";
import { checkFormatSide, checkSourceSize } from "../limits";
import type {
  BoundAction,
  OutputSettings,
  PlanContext,
  Prepared,
  Resources,
  StepContext,
  StepGeometry,
} from "./types";

type StepAction = Extract<BoundAction, { kind: "step" }>;

export interface PlannedStep {
  readonly action: StepAction;
  readonly geometry: StepGeometry;
  /** The step's input may have transparency. */
  readonly hasAlpha: boolean;
  readonly region?: Rect;
  readonly resamplesTo?: Size;
  /** The decoder already resampled the input to `resamplesTo` (a leading resize). */
  readonly inputResampled?: boolean;
}

/** Everything decided before a pixel moves: sizes, decode scale, steps, output, memory. */
export interface Plan {
  readonly context: PlanContext;
  readonly header: ImageHeader;
  readonly decoder: Decoder;
  /** What the decoder delivers: a region of the stored image at a size (shrink-on-load). */
  readonly decode: DecodeRequest;
  /** EXIF orientation applied after decoding (1 = none). */
  readonly orientation: number;
  /**
   * Band passes of the run's first quarter turn or mirror (the EXIF orientation's, or rotate's)
   * when its frame would not fit at once: the decoder runs this many times (wasm/src/steps/orient.c).
   */
  readonly bandPasses: number;
  /** The steps left after decoding: a leading crop and resize the decoder does are not among them. */
  readonly steps: readonly PlannedStep[];
  readonly outputFormat: ImageFormat;
  readonly output: OutputTraits;
  readonly encoder?: Encoder;
  readonly outputSize: Size;
  /** The pixels may have transparency (JPEG output then composites them on white). */
  readonly hasAlpha: boolean;
  /**
   * An animated source that stays animated: every frame goes through the steps and the output
   * format animates (GIF, WebP; Decision 23). Otherwise the run decodes the first frame only.
   */
  readonly animated: boolean;
  readonly quality?: number | "lossless";
  readonly progressive: boolean;
  /** A JPEG re-encoded whole and unchanged but for quality or scans: requantised (jpegRequantizeOp). */
  readonly requantize: boolean;
  /**
   * What the run ends in: the output's encoder; the mean colour for a report that reads pixels
   * (average-hue); or the pixels kept in engine memory (a watermark's mark).
   */
  readonly sink: "encoder" | "mean" | "capture";
  /** Engine memory the run needs at its peak, besides what steps prepare (watermark marks). */
  readonly estimatedBytes: number;
  readonly budgetBytes: number;
}

/** Output formats that store animations. */
const ANIMATED_OUTPUTS: ReadonlySet<ImageFormat> = new Set(["gif", "webp"]);

/** Used when the source format cannot be written (Decision 1). */
const FALLBACK_FORMAT: ImageFormat = "jpg";

export function planProcess(
  actions: readonly BoundAction[],
  header: ImageHeader,
  resources: Resources,
  { capture = false } = {},
): Plan {
  checkSourceSize(header);
  const decoder = decoderFor(header.format);
  const budgetBytes = resources.memoryBudgetBytes;

  const settings: OutputSettings = { progressive: false, autoOrient: true };
  for (const action of actions) if (action.kind === "setting") action.configure(settings);

  const outputFormat = settings.format ?? (outputFor(header.format) ? header.format : FALLBACK_FORMAT);
  const output = outputFor(outputFormat) as OutputTraits;
  const context: PlanContext = { source: header, outputHasAlpha: output.hasAlpha, resources };

  // HEIF's irot/imir are part of the image (applied always, as libheif does); EXIF's follow auto-orient.
  const orientation = header.heif
    ? header.heif.orientation
    : settings.autoOrient
      ? header.exif.orientation
      : 1;
  const upright = orientedSize(header, orientation);

  const planned: PlannedStep[] = [];
  let current: Size = upright;
  let hasAlpha = header.hasAlpha;
  for (const action of actions) {
    if (action.kind !== "step") continue;
    const { output: size, resamplesTo, region, addsAlpha } = action.plan(current, context);
    planned.push({ action, geometry: { input: current, output: size }, hasAlpha, resamplesTo, region });
    current = size;
    hasAlpha ||= addsAlpha === true;
  }
  const report = actions.find((action) => action.kind === "report");
  // A report answers from the decoded source: nothing is encoded, so the output limits do not apply.
  if (!report && !capture) checkFormatSide(current, output.maxSide);

  // OSS keeps a GIF animated only through steps that allow it (resize by size); others take frame
  // 1. Animated WebP sources and GIF to WebP follow the same rule (Decision 23).
  const animated =
    ANIMATED_OUTPUTS.has(outputFormat) &&
    header.frames > 1 &&
    planned.every(({ action }) => action.keepsAnimation);

  const reportSize = report?.reducedSide === undefined ? undefined : fitWithin(upright, report.reducedSide);
  const { decode, steps } = absorbLeadingSteps(planned, upright, orientation, header, reportSize);

  const encoder = output as Encoder;
  const base = {
    context,
    header,
    decoder,
    decode,
    orientation,
    steps,
    outputFormat,
    output,
    encoder,
    outputSize: current,
    hasAlpha,
    animated,
    quality: resolveQuality(settings, header),
    progressive: settings.progressive,
    sink: capture ? ("capture" as const) : report ? ("mean" as const) : ("encoder" as const),
    budgetBytes,
  };
  // Requantising holds every coefficient: where that does not fit, the pixels stream instead.
  const onePass = { ...base, bandPasses: 1, estimatedBytes: 0 };
  const requantize =
    requantizable({ ...onePass, requantize: false }) &&
    estimateBytes({ ...onePass, requantize: true }) <= budgetBytes;
  const estimate = (bandPasses: number) => estimateBytes({ ...onePass, requantize, bandPasses });
  let bandPasses = 1;
  let estimatedBytes = estimate(1);
  const banded = planOps({ ...onePass, requantize }, undefined).find((each) => each.code === OP.ORIENT);
  if (estimatedBytes > budgetBytes && banded && !animated) {
    // A quarter turn's frame that does not fit is held a band at a time (wasm/src/steps/orient.c).
    const [width, height, turn, bytesPerPixel] = banded.args;
    const frame = orientFrameBytes({ width, height }, turn, bytesPerPixel === 4);
    const rest = estimatedBytes - frame;
    if (frame > 0 && rest < budgetBytes) {
      bandPasses = Math.ceil(frame / (budgetBytes - rest));
      estimatedBytes = estimate(bandPasses);
    }
  }
  if (estimatedBytes > budgetBytes) {
    throw imageTooLarge(
      `Processing this ${header.width}x${header.height} image needs about ${mib(estimatedBytes)} MiB; this service allows ${mib(budgetBytes)} MiB per request.`,
    );
  }
  return { ...base, requantize, bandPasses, estimatedBytes };
}

/**
 * JPEG to JPEG at full size, upright, with no step and no colour conversion, from a 4:2:0 source
 * (the sampling the encoder writes): the coefficients can be requantised instead of the pixels
 * decoded and encoded again.
 */
function requantizable(plan: Plan): boolean {
  const { header, decode } = plan;
  return (
    header.format === "jpg" &&
    plan.outputFormat === "jpg" &&
    plan.sink === "encoder" &&
    plan.steps.length === 0 &&
    plan.orientation === 1 &&
    header.jpegSampling420 === true &&
    (header.iccBytes ?? 0) === 0 &&
    decode.region.x === 0 &&
    decode.region.y === 0 &&
    decode.region.width === header.width &&
    decode.region.height === header.height &&
    decode.size.width === header.width &&
    decode.size.height === header.height
  );
}

/** The engine memory of the plan's run, built with placeholders where steps prepare parts. */
function estimateBytes(plan: Plan): number {
  const ops = planOps(plan, undefined);
  const scriptFrame =
    plan.decoder.inEngine === false ? plan.decoder.bytesPerPixel * plan.header.width * plan.header.height : 0;
  return opsBytes(ops) + scriptFrame;
}

/** Where a run's pixels come from: the engine decodes the source, or takes a frame decoded in JS. */
export type PixelSource =
  | { readonly source: number }
  | {
      readonly raster: { pointer: number } & Size;
      /** An animation decoded in JavaScript, its frames one after another (rasterOp). */
      readonly animation?: { frames: number; delays: number; loopCount: number };
    };

/**
 * The engine ops of a plan: decoder, orientation, steps, sink. With a session (inside the engine
 * call) steps build their real parts; without one (planning) placeholders that count the same.
 */
export function planOps(
  plan: Plan,
  session: StepContext["session"],
  prepared: readonly (Prepared | undefined)[] = [],
  pixels: PixelSource = { source: 0 },
): Op[] {
  const { header, decode } = plan;
  const ops: Op[] = [];
  if (plan.decoder.inEngine && "source" in pixels) {
    const frames = plan.animated ? header.frames : 1;
    if (plan.requantize) ops.push(jpegRequantizeOp(header, pixels.source));
    else ops.push(...plan.decoder.ops(header, { ...decode, frames }, pixels.source));
    // Colour management after the decoder's own work, unless the decoder placed it (CMYK first).
    // Sources without an embedded profile are sRGB already.
    if ((header.iccBytes ?? 0) > 0 && !ops.some((each) => each.code === OP.COLOR))
      ops.push(colorOp(decode.size, false, header.iccBytes));
  } else {
    const raster =
      "raster" in pixels ? pixels.raster : { pointer: 0, width: header.width, height: header.height };
    const animation = "raster" in pixels ? pixels.animation : undefined;
    ops.push(
      rasterOp(raster.pointer, raster, "decode", animation),
      ...regionOps(wholeImage(header).size, decode, header.hasAlpha),
    );
  }
  if (plan.orientation > 1) ops.push(orientOp(decode.size, plan.orientation, header.hasAlpha, "decode"));
  plan.steps.forEach(({ action, geometry, hasAlpha, inputResampled }, i) => {
    ops.push(...action.ops(geometry, { ...plan.context, hasAlpha, session, inputResampled }, prepared[i]));
  });
  const last = plan.steps.at(-1)?.geometry.output ?? orientedSize(decode.size, plan.orientation);
  if (plan.sink === "mean") {
    ops.push(meanOp(last));
  } else if (plan.sink === "encoder" && plan.encoder) {
    const options = {
      quality: plan.quality,
      progressive: plan.progressive,
      frames: plan.animated ? plan.header.frames : 1,
      upstream: [...ops],
    };
    ops.push(plan.encoder.op(last, options, plan.hasAlpha, header, plan.budgetBytes));
  } else {
    ops.push(captureOp(last));
  }
  // The first orientation op is the one the engine may run in band passes.
  const first = ops.findIndex((each) => each.code === OP.ORIENT);
  if (first >= 0 && plan.bandPasses > 1) ops[first] = withPasses(ops[first], plan.bandPasses);
  return ops;
}

/**
 * Hands the decoder the work it can do while decoding: a leading crop (it decodes only those rows
 * and columns, and the crop step goes) and the resampling of a resize that comes first or right
 * after that crop (it delivers the size the resize resamples to, and the resize step's own
 * resampling has nothing left to do), or the reduced size a pixel report accepts. Orientation is
 * applied after decoding, so both are turned into stored coordinates.
 */
function absorbLeadingSteps(
  planned: readonly PlannedStep[],
  upright: Size,
  orientation: number,
  header: ImageHeader,
  reportSize: Size | undefined,
): { decode: DecodeRequest; steps: readonly PlannedStep[] } {
  let steps = planned;
  let region: Rect = { x: 0, y: 0, ...upright };
  if (steps[0]?.region) {
    region = steps[0].region;
    steps = steps.slice(1);
  }
  let decodedUpright: Size = reportSize ?? { width: region.width, height: region.height };
  const resize = steps[0];
  if (resize?.resamplesTo) {
    decodedUpright = resize.resamplesTo;
    // The resize now receives its input already resampled: it only places it (pad, fill).
    steps = [{ ...resize, inputResampled: true }, ...steps.slice(1)];
  }
  return {
    decode: {
      region: storedRect(region, orientation, header),
      size: orientedSize(decodedUpright, orientation),
    },
    steps,
  };
}

/**
 * Reference §11: `q` scales the source JPEG's own quality, `Q` caps at it (never raises it).
 * Without a known source quality (non-JPEG sources) both are absolute.
 */
function resolveQuality(settings: OutputSettings, header: ImageHeader): number | "lossless" | undefined {
  const setting = settings.quality;
  if (!setting || setting.value === "lossless") return setting?.value;
  const source = header.jpegQuality;
  if (source === undefined) return setting.value;
  return setting.mode === "relative"
    ? Math.max(1, Math.round((source * setting.value) / 100))
    : Math.min(setting.value, source);
}

/** `size` scaled down, keeping its proportions, so that its longer side is at most `side`. */
function fitWithin(size: Size, side: number): Size {
  const factor = side / Math.max(size.width, size.height);
  if (factor >= 1) return size;
  return {
    width: Math.max(1, Math.round(size.width * factor)),
    height: Math.max(1, Math.round(size.height * factor)),
  };
}
const mib = (bytes: number) => Math.ceil(bytes / (1024 * 1024));
