import { imageTooLarge, invalidArgument, OssError } from "../errors";
import { DEFAULT_FONT, FontChanged } from "../fonts";
import { createRaster, drawOver, type Raster, type Rgba, type Size, TRANSPARENT } from "../image/raster";
import { LIMITS } from "../limits";
import { decodeBase64Text } from "../process/base64";
import { hexColor, integer, oneOf, type Parser, readNamed } from "../process/params";
import type { PlanContext, StepModule } from "../process/types";
import { FontError } from "../text/font";
import { renderText } from "../text/render";
import { rotateImage } from "./rotate";

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

/** The text drawn in its colour from the glyph coverage, with its shadow, turned by `rotate`. */
async function textRaster(mark: TextMark, context: PlanContext): Promise<Raster> {
  const draw = async () => renderText(await context.resources.font(mark.font), mark.text, mark.size);
  // A font file replaced while this isolate held it open is opened again (or its fallback is).
  const mask = await draw()
    .catch((error) => (error instanceof FontChanged ? draw() : Promise.reject(error)))
    .catch((error) => {
      if (!(error instanceof FontError)) throw error;
      throw new OssError("WatermarkError", `The font cannot draw this text: ${error.message}`);
    });
  const offset = mark.shadow > 0 ? Math.max(1, Math.round(mark.size / 20)) : 0;
  const out = createRaster(mask.width + offset, mask.height + offset, TRANSPARENT);
  const paint = (colour: Rgba, alphaScale: number, dx: number, dy: number) => {
    const layer = createRaster(mask.width, mask.height, TRANSPARENT);
    for (let i = 0; i < mask.coverage.length; i++) {
      const o = i * 4;
      layer.data[o] = colour[0];
      layer.data[o + 1] = colour[1];
      layer.data[o + 2] = colour[2];
      layer.data[o + 3] = mask.coverage[i] * alphaScale;
    }
    drawOver(out, layer, dx, dy);
  };
  if (offset) paint([0, 0, 0, 255], mark.shadow / 100, offset, offset);
  paint(mark.color, 1, 0, 0);
  return rotateImage(out, mark.rotate, TRANSPARENT);
}

async function imageRaster(mark: ImageMark, base: Size, context: PlanContext): Promise<Raster> {
  let process = mark.process;
  if (mark.percent !== undefined) {
    // P_ sizes the mark within that percentage of the base image, enlarging if need be.
    const width = Math.max(1, Math.round((base.width * mark.percent) / 100));
    const height = Math.max(1, Math.round((base.height * mark.percent) / 100));
    process = `${process}/resize,w_${width},h_${height},limit_0`;
  }
  return context.resources.image(mark.key, process);
}

/** Image and text side by side (`order`, `interval`), aligned vertically by `align`. */
function besideEachOther(
  first: Raster,
  second: Raster,
  interval: number,
  align: WatermarkOptions["align"],
): Raster {
  const height = Math.max(first.height, second.height);
  const out = createRaster(first.width + interval + second.width, height, TRANSPARENT);
  const top = (part: Raster) =>
    align === "top" ? 0 : align === "middle" ? Math.floor((height - part.height) / 2) : height - part.height;
  drawOver(out, first, 0, top(first));
  drawOver(out, second, first.width + interval, top(second));
  return out;
}

function withOpacity(mark: Raster, opacity: number): Raster {
  if (opacity === 100) return mark;
  const data = mark.data;
  for (let i = 3; i < data.length; i += 4) data[i] = (data[i] * opacity) / 100;
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
export const watermark: StepModule<WatermarkOptions> = {
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
  async apply(options, image, { input }, context) {
    const pictured = options.image && (await imageRaster(options.image, input, context));
    const written = options.text && (await textRaster(options.text, context));
    const mark = withOpacity(
      pictured && written
        ? options.textFirst
          ? besideEachOther(written, pictured, options.interval, options.align)
          : besideEachOther(pictured, written, options.interval, options.align)
        : ((pictured ?? written) as Raster),
      options.opacity,
    );
    if (options.tile) {
      for (let top = 0; top < image.height; top += mark.height + options.padY) {
        for (let left = 0; left < image.width; left += mark.width + options.padX)
          drawOver(image, mark, left, top);
      }
      return image;
    }
    const { left, top } = position(options, image, mark);
    drawOver(image, mark, left, top);
    return image;
  },
};
