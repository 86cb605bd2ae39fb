import { autoOrient } from "../actions/auto-orient";
import { averageHue } from "../actions/average-hue";
import { blur } from "../actions/blur";
import { bright } from "../actions/bright";
import { circle } from "../actions/circle";
import { contrast } from "../actions/contrast";
import { crop } from "../actions/crop";
import { format } from "../actions/format";
import { indexcrop } from "../actions/indexcrop";
import { info } from "../actions/info";
import { interlace } from "../actions/interlace";
import { quality } from "../actions/quality";
import { resize } from "../actions/resize";
import { rotate } from "../actions/rotate";
import { roundedCorners } from "../actions/rounded-corners";
import { sharpen } from "../actions/sharpen";
import { watermark } from "../actions/watermark";
import type { ActionModule } from "./types";

// biome-ignore lint/suspicious/noExplicitAny: each module carries its own options type, bound at parse time.
const MODULES: ActionModule<any>[] = [
  resize,
  crop,
  rotate,
  autoOrient,
  blur,
  bright,
  contrast,
  sharpen,
  quality,
  format,
  interlace,
  info,
  indexcrop,
  circle,
  roundedCorners,
  averageHue,
  watermark,
];

/** Every `x-oss-process` image action this service knows, by its OSS name. */
export const ACTIONS: ReadonlyMap<string, (typeof MODULES)[number]> = new Map(
  MODULES.map((m) => [m.name, m]),
);
