import type { Op } from "../engine/ops";
import type { EngineSession } from "../engine/session";
import type { ImageFormat } from "../image/format";
import type { ImageHeader } from "../image/header";
import type { Rect, Size } from "../image/raster";
import type { Font } from "../text/font";

/** The source object as the pipeline sees it. */
export interface SourceImage {
  readonly bytes: Uint8Array;
  readonly header: ImageHeader;
  /** The mean colour of the auto-oriented pixels (R, G, B, weighted by alpha): for `needsPixels` reports. */
  readonly meanColour?: readonly [number, number, number];
}

/** What processing answers with: an encoded image, or a report such as `info`'s JSON. */
export interface ProcessOutput {
  readonly body: Uint8Array;
  readonly contentType: string;
}

/** One action's parameters as written: `rotate,90` has a bare value, `resize,w_100` named ones. */
export interface ActionParams {
  readonly action: string;
  readonly bare?: string;
  readonly named: ReadonlyMap<string, string>;
}

export type QualitySetting = { readonly mode: "relative" | "absolute"; readonly value: number | "lossless" };

/** Settings that change how the result is encoded rather than its pixels. */
export interface OutputSettings {
  /** Undefined keeps the source format. */
  format?: ImageFormat;
  quality?: QualitySetting;
  progressive: boolean;
  /** Apply the EXIF orientation before anything else (OSS default). */
  autoOrient: boolean;
}

/** Another object of the bucket, read (not decoded) for a step: a watermark image. */
export interface ObjectBytes {
  readonly key: string;
  readonly bytes: Uint8Array;
  readonly header: ImageHeader;
}

/**
 * What steps may read besides their input image: other objects of the same bucket (watermark
 * images) and fonts. Provided by the run layer; read before the engine runs.
 */
export interface Resources {
  object(key: string): Promise<ObjectBytes>;
  font(name: string): Promise<Font>;
  /** The memory a request may plan to use in the engine, in bytes. */
  readonly memoryBudgetBytes: number;
}

export interface PlanContext {
  readonly source: ImageHeader;
  readonly resources: Resources;
  /** Whether the output format keeps alpha, which decides how exposed areas are filled. */
  readonly outputHasAlpha: boolean;
}

export interface StepPlan {
  readonly output: Size;
  /** The output may have transparency even where the input had none (rotate, circle…). */
  readonly addsAlpha?: boolean;
  /**
   * Set by steps that begin by resampling their whole input to this size (resize). A decoder that
   * can resample while decoding delivers the input at this size, and the step's own resampling
   * then has nothing left to do.
   */
  readonly resamplesTo?: Size;
  /**
   * Set by steps whose output is this part of their input, unchanged (crop). When such a step
   * comes first, a decoder that can decode regions reads only this part and the step is dropped.
   */
  readonly region?: Rect;
}

/** The planned geometry of one step: the size it is given and the size it returns. */
export interface StepGeometry {
  readonly input: Size;
  readonly output: Size;
}

/** What a step's engine ops depend on besides its options and geometry. */
export interface StepContext extends PlanContext {
  /** The step's input may have transparency (resampling then weights colours by alpha). */
  readonly hasAlpha: boolean;
  /** The decoder already resampled the input to the step's `resamplesTo` (a leading resize). */
  readonly inputResampled?: boolean;
  /**
   * The engine call the ops will run in, when they are built for it; undefined while planning,
   * when ops are built only to count their memory (steps with prepared parts use placeholders).
   */
  readonly session?: EngineSession;
}

/** What a step read before the engine ran (a watermark's image and text), and the memory it adds. */
export interface Prepared {
  /** Engine bytes the step holds beside its ops while the run lasts (a watermark's mark). */
  readonly bytes: number;
}

interface ModuleBase<O> {
  readonly name: string;
  /** Parameters whose values are Base64 (standard Base64 may contain `/`). */
  readonly base64Params?: readonly string[];
  parse(params: ActionParams): O;
}

/** Changes output settings only (format, quality, interlace, auto-orient). */
export interface SettingModule<O> extends ModuleBase<O> {
  readonly kind: "setting";
  configure(options: O, settings: OutputSettings): void;
}

/** Transforms pixels. `plan` must predict exactly the size the ops produce. */
export interface StepModule<O, P extends Prepared = Prepared> extends ModuleBase<O> {
  readonly kind: "step";
  plan(options: O, input: Size, context: PlanContext): StepPlan;
  /** Reads what the step needs besides pixels (objects, fonts) before the engine runs. */
  prepare?(options: O, geometry: StepGeometry, context: PlanContext): Promise<P>;
  /** The engine ops that do the step on rows of `geometry.input`; `prepared` is prepare's result. */
  ops(options: O, geometry: StepGeometry, context: StepContext, prepared?: P): readonly Op[];
  /** True when an animated GIF stays animated through this step; without it OSS makes it static. */
  keepsAnimation?(options: O): boolean;
  /** Keys of other objects the step reads: their ETags become part of the variant's cache key. */
  references?(options: O): readonly string[];
  /** How many times the action may appear in one process string. */
  readonly maxPerProcess?: number;
}

/** Answers with a description of the source instead of an image; must stand alone. */
export interface ReportModule<O> extends ModuleBase<O> {
  readonly kind: "report";
  /**
   * Set by reports that read pixels (`average-hue`): the source is then planned against the memory
   * budget and decoded like an image request. Without it the report sees only bytes and header.
   */
  readonly needsPixels?: boolean;
  /**
   * Set by pixel reports that answer the same from a reduced image (a mean colour): decoders that
   * scale while decoding then deliver at most this long side, so a photo of any size fits.
   */
  readonly reducedSide?: number;
  report(options: O, source: SourceImage): ProcessOutput;
}

// biome-ignore lint/suspicious/noExplicitAny: a step's prepared data is its own business.
export type ActionModule<O> = SettingModule<O> | StepModule<O, any> | ReportModule<O>;

/** A parsed action: its module with validated options bound in, so callers need not know `O`. */
export type BoundAction =
  | { readonly kind: "setting"; readonly name: string; configure(settings: OutputSettings): void }
  | {
      readonly kind: "step";
      readonly name: string;
      readonly keepsAnimation: boolean;
      readonly references: readonly string[];
      plan(input: Size, context: PlanContext): StepPlan;
      prepare?(geometry: StepGeometry, context: PlanContext): Promise<Prepared>;
      ops(geometry: StepGeometry, context: StepContext, prepared?: Prepared): readonly Op[];
    }
  | {
      readonly kind: "report";
      readonly name: string;
      readonly needsPixels: boolean;
      readonly reducedSide?: number;
      report(source: SourceImage): ProcessOutput;
    };

export function bindAction<O>(module: ActionModule<O>, options: O): BoundAction {
  switch (module.kind) {
    case "setting":
      return {
        kind: "setting",
        name: module.name,
        configure: (settings) => module.configure(options, settings),
      };
    case "step": {
      const { prepare } = module;
      return {
        kind: "step",
        name: module.name,
        keepsAnimation: module.keepsAnimation?.(options) ?? false,
        references: module.references?.(options) ?? [],
        plan: (input, context) => module.plan(options, input, context),
        prepare: prepare && ((geometry, context) => prepare(options, geometry, context)),
        ops: (geometry, context, prepared) => module.ops(options, geometry, context, prepared),
      };
    }
    case "report":
      return {
        kind: "report",
        name: module.name,
        needsPixels: module.needsPixels === true,
        reducedSide: module.reducedSide,
        report: (source) => module.report(options, source),
      };
  }
}
