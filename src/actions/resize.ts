import type { Op } from "../engine/ops";
import { cropOp, placeOp, resampleOp } from "../engine/stages";
import { OssError } from "../errors";
import { type Rgba, type Size, WHITE } from "../image/raster";
import { checkResizeTarget, LIMITS } from "../limits";
import { hexColor, integer, oneOf, readNamed } from "../process/params";
import type { PlanContext, StepModule } from "../process/types";

type Mode = "lfit" | "mfit" | "fill" | "pad" | "fixed";

export interface ResizeOptions {
  readonly mode: Mode;
  readonly width?: number;
  readonly height?: number;
  readonly long?: number;
  readonly short?: number;
  readonly percent?: number;
  readonly enlarge: boolean;
  readonly color: Rgba;
}

const side = integer(1, 16384);

/** Where the resampled image lands: resample to `scaled`, then place it at `offset` on `canvas`. */
export interface ResizeGeometry {
  readonly scaled: Size;
  readonly canvas: Size;
  readonly offset: { readonly x: number; readonly y: number };
}

const atLeastOne = (value: number) => Math.max(1, Math.round(value));

/**
 * OSS resize geometry (reference §2 and Decisions 2-4). `w`/`h` beat `l`/`s`, which beat `p`;
 * `limit_1` (the default) returns the input untouched when the result would be larger than it.
 */
export function resizeGeometry(options: ResizeOptions, input: Size): ResizeGeometry {
  const unchanged = { scaled: input, canvas: input, offset: { x: 0, y: 0 } };
  const box = targetBox(options, input);
  if (!box) {
    const factor = (options.percent ?? 100) / 100;
    const scaled = { width: atLeastOne(input.width * factor), height: atLeastOne(input.height * factor) };
    return { scaled, canvas: scaled, offset: { x: 0, y: 0 } };
  }
  let { width: boxWidth, height: boxHeight } = box;
  if (options.mode === "fixed" || options.mode === "fill" || options.mode === "pad") {
    boxWidth ??= boxHeight;
    boxHeight ??= boxWidth;
  }
  let scaled: Size;
  if (options.mode === "fixed") {
    scaled = { width: boxWidth as number, height: boxHeight as number };
  } else {
    const widthRatio = boxWidth === undefined ? undefined : boxWidth / input.width;
    const heightRatio = boxHeight === undefined ? undefined : boxHeight / input.height;
    const pickRatio = options.mode === "lfit" || options.mode === "pad" ? Math.min : Math.max;
    const ratio =
      widthRatio === undefined
        ? (heightRatio as number)
        : heightRatio === undefined
          ? widthRatio
          : pickRatio(widthRatio, heightRatio);
    scaled = {
      width: ratio === widthRatio ? (boxWidth as number) : atLeastOne(input.width * ratio),
      height: ratio === heightRatio ? (boxHeight as number) : atLeastOne(input.height * ratio),
    };
  }
  if (!options.enlarge && (scaled.width > input.width || scaled.height > input.height)) return unchanged;
  if (options.mode !== "fill" && options.mode !== "pad")
    return { scaled, canvas: scaled, offset: { x: 0, y: 0 } };
  const canvas = { width: boxWidth as number, height: boxHeight as number };
  return {
    scaled,
    canvas,
    offset: {
      x: Math.floor((canvas.width - scaled.width) / 2),
      y: Math.floor((canvas.height - scaled.height) / 2),
    },
  };
}

/** The box from w/h, or from l/s oriented like the input (Decision 4); undefined for `p` alone. */
function targetBox(options: ResizeOptions, input: Size): { width?: number; height?: number } | undefined {
  if (options.width !== undefined || options.height !== undefined) {
    return { width: options.width, height: options.height };
  }
  if (options.long === undefined && options.short === undefined) return undefined;
  const landscape = input.width >= input.height;
  return landscape
    ? { width: options.long, height: options.short }
    : { width: options.short, height: options.long };
}

/** OSS never enlarges a GIF (reference §19), whatever `limit` says. */
function forSource(options: ResizeOptions, context: PlanContext): ResizeOptions {
  return context.source.format === "gif" ? { ...options, enlarge: false } : options;
}

export const resize: StepModule<ResizeOptions> = {
  kind: "step",
  name: "resize",
  parse(params) {
    const raw = readNamed(params, {
      m: oneOf("lfit", "mfit", "fill", "pad", "fixed"),
      w: side,
      h: side,
      l: side,
      s: side,
      p: integer(1, 1000),
      limit: oneOf("0", "1"),
      color: hexColor,
    });
    if ([raw.w, raw.h, raw.l, raw.s, raw.p].every((value) => value === undefined)) {
      throw new OssError("MissingArgument", "The action: resize needs one of w, h, l, s or p.");
    }
    return {
      mode: raw.m ?? "lfit",
      width: raw.w,
      height: raw.h,
      long: raw.l,
      short: raw.s,
      percent: raw.p,
      enlarge: raw.limit === "0",
      color: raw.color ?? WHITE,
    };
  },
  // Resizing to a size keeps a GIF animated; resizing by percentage makes it static (reference §19).
  keepsAnimation: (options) =>
    [options.width, options.height, options.long, options.short].some((side) => side !== undefined),
  plan(options, input, context) {
    const geometry = resizeGeometry(forSource(options, context), input);
    // OSS's output limits apply to what a resize asks for (Decision 20).
    checkResizeTarget(geometry.scaled, LIMITS.outputSide);
    checkResizeTarget(geometry.canvas, LIMITS.outputSide);
    return { output: geometry.canvas, resamplesTo: geometry.scaled };
  },
  ops(options, { input }, context) {
    const { scaled, canvas, offset } = resizeGeometry(forSource(options, context), input);
    const ops: Op[] = [];
    // Already `scaled` when the decoder resampled while decoding (StepPlan.resamplesTo).
    const resampled =
      context.inputResampled || (scaled.width === input.width && scaled.height === input.height);
    if (!resampled) ops.push(resampleOp(input, scaled, context.hasAlpha));
    if (canvas.width === scaled.width && canvas.height === scaled.height) return ops;
    if (options.mode === "fill") {
      ops.push(cropOp(scaled, { x: -offset.x, y: -offset.y, ...canvas }, "resize"));
    } else {
      ops.push(placeOp(scaled, canvas, offset.x, offset.y, options.color, "resize"));
    }
    return ops;
  },
};
