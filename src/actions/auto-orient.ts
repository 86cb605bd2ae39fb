import { oneOf, readBare } from "../process/params";
import type { SettingModule } from "../process/types";

/** `auto-orient,1` (the default, Decision 9) rotates by EXIF Orientation before any other step. */
export const autoOrient: SettingModule<boolean> = {
  kind: "setting",
  name: "auto-orient",
  parse: (params) => readBare(params, oneOf("0", "1")) === "1",
  configure(enabled, settings) {
    settings.autoOrient = enabled;
  },
};
