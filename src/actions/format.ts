import { invalidArgument } from "../errors";
import type { ImageFormat } from "../image/format";
import { oneOf, readBare } from "../process/params";
import type { SettingModule } from "../process/types";

const WRITABLE = ["jpg", "png", "webp", "avif", "bmp"] as const;
/** OSS output formats this service cannot write yet: named, so the error says what is missing. */
const NOT_WRITABLE = ["tiff", "heic"] as const;

/** `gif` keeps GIF sources GIF and every other source in its own format; `jpeg` is an alias of `jpg`. */
type FormatChoice = ImageFormat | "source";

export const format: SettingModule<FormatChoice> = {
  kind: "setting",
  name: "format",
  parse(params) {
    const name = readBare(params, oneOf(...WRITABLE, ...NOT_WRITABLE, "jpeg", "gif"));
    if ((NOT_WRITABLE as readonly string[]).includes(name)) {
      throw invalidArgument(`The output format: ${name} is not supported by this service.`);
    }
    if (name === "gif") return "source";
    return name === "jpeg" ? "jpg" : (name as ImageFormat);
  },
  configure(choice, settings) {
    settings.format = choice === "source" ? undefined : choice;
  },
};
