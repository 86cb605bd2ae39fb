import { OP, op, opsBytes } from "../engine/ops";
import type { EngineRaster, EngineSession } from "../engine/session";
import { imageTooLarge, invalidArgument, OssError } from "../errors";
import { DEFAULT_FONT, FontChanged } from "../fonts";
import { type Raster, type Rgba, type Size, TRANSPARENT } from "../image/raster";
import { LIMITS } from "../limits";
import { decodeBase64Text } from "../process/base64";
import { hexColor, integer, oneOf, type Parser, readNamed } from "../process/params";
import { parseProcess } from "../process/parse";
import { type PixelSource, type Plan, planOps, planProcess } from "../process/plan";
import { scriptDecode } from "../process/run";
import type { PlanContext, Prepared, StepModule } from "../process/types";
import { FontError } from "../text/font";
import { renderText, type TextMask } from "../text/render";
import { rotatedSize, rotateOps } from "./rotate";

const GRAVITIES = ["nw", "north", "ne", "west", "center", "east", "sw", "south", "se"] as const;
type Gravity = (typeof GRAVITIES)[number];

interface ImageMark {
  readonly key: string;
  /** The watermark's own pre-processing, `image/...` (`image` alone when there is none). */
  readonly process: string;
  /** `P_` inside the pre-processing resize: the mark's size as a percentage of the base image. */
  readonly percent?: number;
}

interface TextMark {
  readonly text: string;
  readonly font: string;
  readonly color: Rgba;
  readonly size: number;
  readonly shadow: number;
  readonly rotate: number;
}

export interface WatermarkOptions {
  readonly opacity: number;
  readonly gravity: Gravity;
  readonly x: number;
  readonly y: number;
  readonly voffset: number;
  readonly tile: boolean;
  readonly padX: number;
  readonly padY: number;
  readonly image?: ImageMark;
  readonly text?: TextMark;
  readonly textFirst: boolean;
  readonly align: "top" | "middle" | "bottom";
  readonly interval: number;
}

/** Pre-processing an image watermark may carry (reference §14.2). */
const PRE_PROCESSING = new Set(["resize", "crop", "indexcrop", "rotate"]);
const MAX_TEXT_LENGTH = 64;
const PERCENT_PARAM = /(^|,)P_([^,]*)/;

const base64Text: Parser<string> = (raw) => decodeBase64Text(raw);

/** `image_`: Base64 of `key` or `key?x-oss-process=image/...`, checked here and run when applied. */
function parseImageMark(value: string): ImageMark {
  const marker = "?x-oss-process=";
  const at = value.indexOf(marker);
  const key = at < 0 ? value : value.slice(0, at);
  if (key === "") throw invalidArgument("The watermark image key is empty.");
  if (at < 0) return { key, process: "image" };
  const raw = value.slice(at + marker.length);
  if (raw.includes("|")) throw invalidArgument("Watermark pre-processing cannot contain a pipeline (|).");
  const [kind, ...segments] = raw.split("/").filter((segment) => segment !== "");
  if (kind !== "image") throw invalidArgument("Watermark pre-processing must start with image/.");
  let percent: number | undefined;
  const kept: string[] = [];
  for (const segment of segments) {
    const name = segment.split(",")[0];
    if (name === "watermark") {
      throw invalidArgument("A watermark image cannot itself carry a watermark.", "0040-00000373");
    }
    if (!PRE_PROCESSING.has(name)) {
      throw invalidArgument(
        `The action: ${name} is not allowed in watermark pre-processing (resize, crop, indexcrop, rotate).`,
      );
    }
    const match = name === "resize" ? PERCENT_PARAM.exec(segment) : null;
    if (match) {
      percent = integer(1, 100)(match[2], "P", "watermark");
      const rest = segment.replace(PERCENT_PARAM, "");
      // A resize with nothing but P is sized from the base image when applied.
      if (rest !== "resize") kept.push(rest);
    } else {
      kept.push(segment);
    }
  }
  return { key, process: ["image", ...kept].join("/"), percent };
}

/** Text watermark defaults (Decision 10). */
const TEXT_DEFAULTS = { font: DEFAULT_FONT, color: [0, 0, 0, 255] as Rgba, size: 40, shadow: 0, rotate: 0 };

function parseTextMark(text: string, given: Partial<Omit<TextMark, "text">>): TextMark {
  const mark: TextMark = { ...TEXT_DEFAULTS, ...definedOnly(given), text };
  const characters = [...text].length;
  if (characters === 0 || characters > MAX_TEXT_LENGTH) {
    throw invalidArgument(`The watermark text must have 1 to ${MAX_TEXT_LENGTH} characters.`);
  }
  if (/[\r\n]/.test(text)) throw invalidArgument("The watermark text cannot contain line breaks.");
  // The glyph mask is about size x size per character; keep it within what an output may hold.
  if (mark.size * mark.size * characters > LIMITS.outputPixels) {
    throw imageTooLarge(
      `The watermark text at size ${mark.size} would be larger than ${LIMITS.outputPixels} pixels.`,
    );
  }
  return mark;
}

function definedOnly<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/** The text's coverage, drawn in JavaScript from the font's outlines (src/text/render.ts). */
async function textMask(mark: TextMark, context: PlanContext): Promise<TextMask> {
  const draw = async () => renderText(await context.resources.font(mark.font), mark.text, mark.size);
  // A font file replaced while this isolate held it open is opened again (or its fallback is).
  return draw()
    .catch((error) => (error instanceof FontChanged ? draw() : Promise.reject(error)))
    .catch((error) => {
      if (!(error instanceof FontError)) throw error;
      throw new OssError("WatermarkError", `The font cannot draw this text: ${error.message}`);
    });
}

/** The process string of an image mark: its own pre-processing, and `P_` sized from the base. */
function imageProcess(mark: ImageMark, base: Size): string {
  if (mark.percent === undefined) return mark.process;
  // P_ sizes the mark within that percentage of the base image, enlarging if need be.
  const width = Math.max(1, Math.round((base.width * mark.percent) / 100));
  const height = Math.max(1, Math.round((base.height * mark.percent) / 100));
  return `${mark.process}/resize,w_${width},h_${height},limit_0`;
}

/** What a watermark reads before the engine runs: the mark image's plan and bytes, the text's mask. */
interface PreparedMark extends Prepared {
  readonly image?: { readonly plan: Plan; readonly bytes: Uint8Array; readonly pixels?: Raster };
  readonly text?: { readonly mask: TextMask; readonly size: Size; readonly shadowOffset: number };
  /** The finished mark's size, which places it. */
  readonly size: Size;
}

const shadowOffset = (mark: TextMark) => (mark.shadow > 0 ? Math.max(1, Math.round(mark.size / 20)) : 0);

/** Image and text side by side (`order`, `interval`): the combined size. */
function besideSize(first: Size, second: Size, interval: number): Size {
  return { width: first.width + interval + second.width, height: Math.max(first.height, second.height) };
}

const rgbaBytes = (size: Size) => size.width * size.height * 4;

async function prepareMark(
  options: WatermarkOptions,
  base: Size,
  context: PlanContext,
): Promise<PreparedMark> {
  let bytes = 0;
  let image: PreparedMark["image"];
  let text: PreparedMark["text"];
  if (options.image) {
    const object = await context.resources.object(options.image.key);
    const actions = parseProcess(imageProcess(options.image, base)).actions;
    const plan = planProcess(actions, object.header, context.resources, { capture: true });
    const pixels = await scriptDecode(plan, object.bytes);
    image = { plan, bytes: object.bytes, pixels };
    bytes += plan.estimatedBytes + (pixels ? rgbaBytes(pixels) : 0);
  }
  if (options.text) {
    const mask = await textMask(options.text, context);
    const offset = shadowOffset(options.text);
    const drawn = { width: mask.width + offset, height: mask.height + offset };
    const size = rotatedSize(options.text.rotate, drawn);
    text = { mask, size, shadowOffset: offset };
    // The coverage, the drawn text, and its turned copy (with the turn's own rows).
    bytes +=
      mask.width * mask.height + rgbaBytes(drawn) + rgbaBytes(size) + opsBytes(turnOps(options.text, drawn));
  }
  const sizes = [image?.plan.outputSize, text?.size].filter((size): size is Size => size !== undefined);
  const size = sizes.length === 2 ? besideSize(sizes[0], sizes[1], options.interval) : (sizes[0] as Size);
  if (sizes.length === 2) bytes += rgbaBytes(size);
  return { bytes, image, text, size };
}

const turnOps = (mark: TextMark, drawn: Size) =>
  rotateOps(mark.rotate, drawn, true, TRANSPARENT, "watermark");

/** Builds the mark in engine memory (inside the engine call), opacity applied. */
function buildMark(options: WatermarkOptions, prepared: PreparedMark, session: EngineSession): EngineRaster {
  const { exports } = session.engine;
  let pictured: EngineRaster | undefined;
  let written: EngineRaster | undefined;
  if (prepared.image) {
    const { plan, bytes, pixels } = prepared.image;
    const source: PixelSource = pixels
      ? {
          raster: {
            pointer: session.put(
              new Uint8Array(pixels.data.buffer, pixels.data.byteOffset, pixels.data.byteLength),
            ),
            width: pixels.width,
            height: pixels.height,
          },
        }
      : { source: session.engine.addSource(bytes) };
    const { pointer } = session.run(planOps(plan, session, [], source));
    pictured = { pointer, ...plan.outputSize };
  }
  if (prepared.text && options.text) {
    const { mask, shadowOffset: offset } = prepared.text;
    const { color, shadow } = options.text;
    const coverage = session.put(mask.coverage);
    const drawnPointer = session.own(
      exports.mark_text(coverage, mask.width, mask.height, color[0], color[1], color[2], shadow, offset),
    );
    const drawn: EngineRaster = {
      pointer: drawnPointer,
      width: mask.width + offset,
      height: mask.height + offset,
    };
    const turns = turnOps(options.text, drawn);
    written = turns.length
      ? session.capture([session.rasterSource(drawn, "watermark"), ...turns], prepared.text.size)
      : drawn;
  }
  let mark = (pictured ?? written) as EngineRaster;
  if (pictured && written) {
    const [first, second] = options.textFirst ? [written, pictured] : [pictured, written];
    const align = options.align === "top" ? 0 : options.align === "middle" ? 1 : 2;
    const pointer = exports.mark_beside(
      first.pointer,
      first.width,
      first.height,
      second.pointer,
      second.width,
      second.height,
      options.interval,
      align,
    );
    mark = { pointer: session.own(pointer), ...prepared.size };
  }
  exports.mark_opacity(mark.pointer, mark.width, mark.height, options.opacity);
  return mark;
}

/**
 * Where the mark goes: `x` from the left or right edge and `y` from the top or bottom edge at the
 * anchors on them; centred otherwise, where `voffset` moves the mark down (negative: up) from the
 * middle line.
 */
function position(options: WatermarkOptions, base: Size, mark: Size): { left: number; top: number } {
  const g = options.gravity;
  const left = ["nw", "west", "sw"].includes(g)
    ? options.x
    : ["ne", "east", "se"].includes(g)
      ? base.width - mark.width - options.x
      : Math.floor((base.width - mark.width) / 2);
  const top = ["nw", "north", "ne"].includes(g)
    ? options.y
    : ["sw", "south", "se"].includes(g)
      ? base.height - mark.height - options.y
      : Math.floor((base.height - mark.height) / 2) + options.voffset;
  return { left, top };
}

const margin = integer(0, 4096);

/**
 * `watermark`: image, text, or both (reference §14), placed by gravity and margins or tiled over
 * the image, with opacity `t`. Draws onto its input, which no later step reuses.
 */
export const watermark: StepModule<WatermarkOptions, PreparedMark> = {
  kind: "step",
  name: "watermark",
  maxPerProcess: 3,
  base64Params: ["image", "text", "type"],
  parse(params) {
    const raw = readNamed(params, {
      t: integer(0, 100),
      g: oneOf(...GRAVITIES),
      x: margin,
      y: margin,
      voffset: integer(-1000, 1000),
      fill: oneOf("0", "1"),
      padx: margin,
      pady: margin,
      image: base64Text,
      text: base64Text,
      type: base64Text,
      color: hexColor,
      size: integer(1, 1000),
      shadow: integer(0, 100),
      rotate: integer(0, 360),
      order: oneOf("0", "1"),
      align: oneOf("0", "1", "2"),
      interval: integer(0, 1000),
    });
    if (raw.image === undefined && raw.text === undefined) {
      throw new OssError("MissingArgument", "The action: watermark needs image or text.");
    }
    return {
      opacity: raw.t ?? 100,
      gravity: raw.g ?? "se",
      x: raw.x ?? 10,
      y: raw.y ?? 10,
      voffset: raw.voffset ?? 0,
      tile: raw.fill === "1",
      padX: raw.padx ?? 0,
      padY: raw.pady ?? 0,
      image: raw.image === undefined ? undefined : parseImageMark(raw.image),
      text:
        raw.text === undefined
          ? undefined
          : parseTextMark(raw.text, {
              font: raw.type,
              color: raw.color,
              size: raw.size,
              shadow: raw.shadow,
              rotate: raw.rotate,
            }),
      textFirst: raw.order === "1",
      align: raw.align === "1" ? "middle" : raw.align === "2" ? "bottom" : "top",
      interval: raw.interval ?? 0,
    };
  },
  references: (options) => (options.image ? [options.image.key] : []),
  plan: (_options, input) => ({ output: input }),
  prepare: (options, { input }, context) => prepareMark(options, input, context),
  ops(options, { input }, context, prepared) {
    // While planning there is no mark yet: a placeholder op counts the same (the mark is prepared's).
    const size = prepared?.size ?? { width: 1, height: 1 };
    const mark =
      prepared && context.session ? buildMark(options, prepared, context.session) : { pointer: 0, ...size };
    const { left, top } = options.tile ? { left: 0, top: 0 } : position(options, input, mark);
    return [
      op(
        OP.WATERMARK,
        "watermark",
        256,
        input.width,
        input.height,
        mark.pointer,
        mark.width,
        mark.height,
        options.tile ? 1 : 0,
        left,
        top,
        options.padX,
        options.padY,
      ),
    ];
  },
};
