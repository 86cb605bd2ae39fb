// Where Debian's packages put the fonts that draw OSS's text watermark font names (src/fonts.ts):
// apt-get install fonts-wqy-zenhei fonts-wqy-microhei fonts-droid-fallback
import { existsSync } from "node:fs";

export const FONT_FILES = {
  "wqy-zenhei": "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
  "wqy-microhei": "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
  droidsansfallback: "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
};

/** The fonts present on this machine, by the key they take in the FONTS bucket. */
export function installedFonts() {
  return Object.fromEntries(Object.entries(FONT_FILES).filter(([, path]) => existsSync(path)));
}
