import { decoderFor, outputFor } from "../codecs";
import { type DecodeRequest, type OutputTraits, wholeImage } from "../codecs/types";
import { imageTooLarge } from "../errors";
import type { ImageFormat } from "../image/format";
import type { ImageHeader } from "../image/header";
import { storedRect } from "../image/orient";
import type { Rect, Size } from "../image/raster";
import { checkOutputSize, checkSourceSize, stepBytes } from "../limits";
import type { BoundAction, OutputSettings, PlanContext, Resources, StepGeometry } from "./types";

type StepAction = Extract<BoundAction, { kind: "step" }>;

export interface PlannedStep {
  readonly action: StepAction;
  readonly geometry: StepGeometry;
  readonly region?: Rect;
  readonly resamplesTo?: Size;
}

/** Everything decided before a pixel moves: sizes, decode scale, output encoding, memory. */
export interface Plan {
  readonly context: PlanContext;
  /** What the decoder delivers: a region of the stored image at a size (shrink-on-load). */
  readonly decode: DecodeRequest;
  /** EXIF orientation to apply after decoding (1 = none). */
  readonly orientation: number;
  /** The steps left to run after decoding: a leading crop the decoder did is not among them. */
  readonly steps: readonly PlannedStep[];
  readonly outputFormat: ImageFormat;
  readonly output: OutputTraits;
  readonly outputSize: Size;
  /** An animated GIF that stays animated: every frame goes through the steps. */
  readonly animated: boolean;
  readonly quality?: number | "lossless";
  readonly progressive: boolean;
  readonly estimatedBytes: number;
}

/** Used when the source format cannot be written (Decision 1). */
const FALLBACK_FORMAT: ImageFormat = "jpg";

export function planProcess(
  actions: readonly BoundAction[],
  header: ImageHeader,
  sourceBytes: number,
  budgetBytes: number,
  resources: Resources,
): Plan {
  checkSourceSize(header);
  const decoder = decoderFor(header.format);

  const settings: OutputSettings = { progressive: false, autoOrient: true };
  for (const action of actions) if (action.kind === "setting") action.configure(settings);

  const outputFormat = settings.format ?? (outputFor(header.format) ? header.format : FALLBACK_FORMAT);
  const outputTraits = outputFor(outputFormat) as OutputTraits;
  const context: PlanContext = { source: header, outputHasAlpha: outputTraits.hasAlpha, resources };

  const orientation = settings.autoOrient ? header.exif.orientation : 1;
  const upright: Size =
    orientation >= 5
      ? { width: header.height, height: header.width }
      : { width: header.width, height: header.height };

  const planned: PlannedStep[] = [];
  let current = upright;
  for (const action of actions) {
    if (action.kind !== "step") continue;
    const { output, resamplesTo, region } = action.plan(current, context);
    checkOutputSize(output, outputTraits.maxSide);
    planned.push({ action, geometry: { input: current, output }, resamplesTo, region });
    current = output;
  }
  // A report (which stands alone) answers from the decoded source: nothing is encoded, so neither
  // the output limits nor the encoder's memory apply.
  const encodes = !actions.some((action) => action.kind === "report");
  if (encodes) checkOutputSize(current, outputTraits.maxSide);

  // OSS keeps a GIF animated only through steps that allow it (resize by size); others take frame 1.
  const animated =
    outputFormat === "gif" && header.frames > 1 && planned.every(({ action }) => action.keepsAnimation);
  const frames = animated ? header.frames : 1;

  const report = actions.find((action) => action.kind === "report");
  const reportSize = report?.reducedSide === undefined ? undefined : fitWithin(upright, report.reducedSide);
  const { decode, decodedUpright, steps } = decoder.decodesRegions
    ? absorbLeadingSteps(planned, upright, orientation, header, reportSize)
    : { decode: wholeImage(header), decodedUpright: upright, steps: planned };

  /** Bytes of the hungriest step: steps run one after another, so only the largest counts. */
  let largestStep = orientation > 1 ? stepBytes(decodedUpright, decodedUpright) : 0;
  let input = decodedUpright;
  for (const { geometry } of steps) {
    largestStep = Math.max(largestStep, stepBytes(input, geometry.output));
    input = geometry.output;
  }
  // The source is held in JS as read from R2; the decoder counts any copy it makes.
  const estimatedBytes =
    sourceBytes +
    decoder.memoryBytes(header, decode, sourceBytes) +
    largestStep +
    (encodes ? frames * area(current) * outputTraits.bytesPerPixel : 0);
  if (estimatedBytes > budgetBytes) {
    throw imageTooLarge(
      `Processing this ${header.width}x${header.height} image needs about ${mib(estimatedBytes)} MiB; this service allows ${mib(budgetBytes)} MiB per request.`,
    );
  }

  return {
    context,
    decode,
    orientation,
    steps,
    outputFormat,
    output: outputTraits,
    outputSize: current,
    animated,
    quality: resolveQuality(settings, header),
    progressive: settings.progressive,
    estimatedBytes,
  };
}

/**
 * Hands a region-decoding decoder the work it can do while decoding: a leading crop (it decodes
 * only those rows and columns, and the crop step goes) and the resampling of a resize that comes
 * first or right after that crop (it delivers the size the resize resamples to, and the resize
 * step's own resampling has nothing left to do), or the reduced size a pixel report accepts.
 * Orientation is applied after decoding, so both are turned into stored coordinates.
 */
function absorbLeadingSteps(
  planned: readonly PlannedStep[],
  upright: Size,
  orientation: number,
  header: ImageHeader,
  reportSize: Size | undefined,
): { decode: DecodeRequest; decodedUpright: Size; steps: readonly PlannedStep[] } {
  let steps = planned;
  let region: Rect = { x: 0, y: 0, ...upright };
  if (steps[0]?.region) {
    region = steps[0].region;
    steps = steps.slice(1);
  }
  const decodedUpright = steps[0]?.resamplesTo ??
    reportSize ?? { width: region.width, height: region.height };
  const swaps = orientation >= 5;
  const decode: DecodeRequest = {
    region: storedRect(region, orientation, header),
    size: swaps ? { width: decodedUpright.height, height: decodedUpright.width } : decodedUpright,
  };
  return { decode, decodedUpright, steps };
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

const area = (size: Size) => size.width * size.height;

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
