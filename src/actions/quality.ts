import { OssError } from "../errors";
import { either, integer, oneOf, readNamed } from "../process/params";
import type { QualitySetting, SettingModule } from "../process/types";

const value = either(integer(1, 100), oneOf("lossless"));

/** `q` is relative to the source's quality, `Q` absolute; `Q` wins when both are given. */
export const quality: SettingModule<QualitySetting> = {
  kind: "setting",
  name: "quality",
  parse(params) {
    const raw = readNamed(params, { q: value, Q: value });
    if (raw.Q !== undefined) return { mode: "absolute", value: raw.Q };
    if (raw.q !== undefined) return { mode: "relative", value: raw.q };
    throw new OssError("MissingArgument", "The action: quality needs q or Q.");
  },
  configure(setting, settings) {
    settings.quality = setting;
  },
};
