import { decoderFor, outputFor } from "../codecs";
import type { OutputTraits } from "../codecs/types";
import { imageTooLarge } from "../errors";
import type { ImageFormat } from "../image/format";
import type { ImageHeader } from "../image/header";
import type { Size } from "../image/raster";
import { checkOutputSize, checkSourceSize, stepBytes } from "../limits";
import type { BoundAction, OutputSettings, PlanContext, Resources, StepGeometry } from "./types";

type StepAction = Extract<BoundAction, { kind: "step" }>;

export interface PlannedStep {
  readonly action: StepAction;
  readonly geometry: StepGeometry;
}

/** Everything decided before a pixel moves: sizes, decode scale, output encoding, memory. */
export interface Plan {
  readonly context: PlanContext;
  /** Scale requested from the decoder (1, 1/2, 1/4 or 1/8): shrink-on-load. */
  readonly decodeScale: number;
  /** EXIF orientation to apply after decoding (1 = none). */
  readonly orientation: number;
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

const DECODE_SCALES = [1 / 8, 1 / 4, 1 / 2];

/** Used when the source format cannot be written (Decision 1). */
const FALLBACK_FORMAT: ImageFormat = "jpg";

/** Source formats that can carry transparency; others gain it only from a step that adds it. */
const ALPHA_SOURCES = new Set<ImageFormat>(["png", "webp", "avif", "gif", "bmp", "tiff", "heic"]);

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

  let mayHaveAlpha = ALPHA_SOURCES.has(header.format);
  const steps: PlannedStep[] = [];
  let current = upright;
  let firstMinimumInput: Size | undefined;
  /** Bytes of the hungriest step: steps run one after another, so only the largest counts. */
  let largestStep = 0;
  for (const action of actions) {
    if (action.kind !== "step") continue;
    const { output, minimumInput, addsTransparency } = action.plan(current, context);
    checkOutputSize(output, outputTraits.maxSide);
    if (steps.length === 0) firstMinimumInput = minimumInput;
    largestStep = Math.max(largestStep, stepBytes(current, output, mayHaveAlpha));
    mayHaveAlpha ||= addsTransparency === true;
    steps.push({ action, geometry: { input: current, output } });
    current = output;
  }
  // A report (which stands alone) answers from the decoded source: nothing is encoded, so neither
  // the output limits nor the encoder's memory apply.
  const encodes = !actions.some((action) => action.kind === "report");
  if (encodes) checkOutputSize(current, outputTraits.maxSide);

  // OSS keeps a GIF animated only through steps that allow it (resize by size); others take frame 1.
  const animated =
    outputFormat === "gif" && header.frames > 1 && steps.every(({ action }) => action.keepsAnimation);
  const frames = animated ? header.frames : 1;

  const decodeScale = firstMinimumInput ? shrinkOnLoadScale(upright, firstMinimumInput) : 1;
  const decoded = decoder.decodedSize(header, decodeScale);
  if (orientation > 1) largestStep = Math.max(largestStep, stepBytes(decoded, decoded, false));
  // The source is held twice while decoding: as read from R2 and inside the decoder's WASM heap.
  const estimatedBytes =
    2 * sourceBytes +
    area(decoded) * decoder.bytesPerPixel(header) +
    largestStep +
    (encodes ? frames * area(current) * outputTraits.bytesPerPixel : 0);
  if (estimatedBytes > budgetBytes) {
    throw imageTooLarge(
      `Processing this ${header.width}x${header.height} image needs about ${mib(estimatedBytes)} MiB; this service allows ${mib(budgetBytes)} MiB per request.`,
    );
  }

  return {
    context,
    decodeScale,
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

/** The smallest DCT scale whose result still covers what the first resampling step needs. */
function shrinkOnLoadScale(source: Size, needed: Size): number {
  for (const scale of DECODE_SCALES) {
    if (
      Math.ceil(source.width * scale) >= needed.width &&
      Math.ceil(source.height * scale) >= needed.height
    ) {
      return scale;
    }
  }
  return 1;
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
const mib = (bytes: number) => Math.ceil(bytes / (1024 * 1024));
