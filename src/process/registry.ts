import { autoOrient } from "../actions/auto-orient";
import { crop } from "../actions/crop";
import { format } from "../actions/format";
import { info } from "../actions/info";
import { interlace } from "../actions/interlace";
import { quality } from "../actions/quality";
import { resize } from "../actions/resize";
import { rotate } from "../actions/rotate";
import type { ActionModule } from "./types";

// biome-ignore lint/suspicious/noExplicitAny: each module carries its own options type, bound at parse time.
const MODULES: ActionModule<any>[] = [resize, crop, rotate, autoOrient, quality, format, interlace, info];

/** Every `x-oss-process` image action this service knows, by its OSS name. */
export const ACTIONS: ReadonlyMap<string, (typeof MODULES)[number]> = new Map(
  MODULES.map((m) => [m.name, m]),
);
