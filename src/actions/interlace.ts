import { oneOf, readBare } from "../process/params";
import type { SettingModule } from "../process/types";

/** `interlace,1` makes JPEG output progressive; other formats ignore it. */
export const interlace: SettingModule<boolean> = {
  kind: "setting",
  name: "interlace",
  parse: (params) => readBare(params, oneOf("0", "1")) === "1",
  configure(progressive, settings) {
    settings.progressive = progressive;
  },
};
