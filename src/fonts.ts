import { OssError } from "./errors";
import { type Font, parseFont } from "./text/font";

/** The font OSS uses when `type_` is absent, and the one unknown names fall back to. */
export const DEFAULT_FONT = "wqy-zenhei";

/**
 * OSS font names and the redistributable font each is drawn with (Debian's fonts-wqy-zenhei,
 * fonts-wqy-microhei and fonts-droid-fallback). The FangZheng faces are proprietary: they map to
 * the WenQuanYi face closest in style.
 */
const FONT_FILES: Record<string, string> = {
  "wqy-zenhei": "wqy-zenhei",
  "wqy-microhei": "wqy-microhei",
  droidsansfallback: "droidsansfallback",
  fangzhengshusong: "wqy-zenhei",
  fangzhengkaiti: "wqy-zenhei",
  fangzhengheiti: "wqy-microhei",
  fangzhengfangsong: "wqy-zenhei",
};

/** The object key in the FONTS bucket that draws an OSS font name. */
export const fontFileFor = (name: string) => FONT_FILES[name] ?? FONT_FILES[DEFAULT_FONT];

/** Parsed fonts stay in the isolate: a CJK font is megabytes, read from R2 once. */
const loaded = new Map<string, Promise<Font>>();

export function loadFont(
  name: string,
  read: (file: string) => Promise<Uint8Array | undefined>,
): Promise<Font> {
  const file = fontFileFor(name);
  let font = loaded.get(file);
  if (!font) {
    font = read(file).then((bytes) => {
      if (!bytes) {
        throw new OssError(
          "WatermarkError",
          `The font ${file} is not installed on this service (FONTS bucket).`,
        );
      }
      return parseFont(bytes);
    });
    font.catch(() => loaded.delete(file));
    loaded.set(file, font);
  }
  return font;
}
