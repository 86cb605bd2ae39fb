// The font files that draw OSS's text-watermark font names (src/fonts.ts), by their key in the
// FONTS bucket. Noto Sans SC comes from npm (`npm install` brings it) and is always uploaded;
// Debian's WenQuanYi and Droid fonts are used as well when they are installed
// (apt-get install fonts-wqy-zenhei fonts-wqy-microhei fonts-droid-fallback).
import { existsSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

export const FALLBACK_FONT = {
  key: "noto-sans-sc",
  path: require.resolve("@expo-google-fonts/noto-sans-sc/400Regular/NotoSansSC_400Regular.ttf"),
};

export const DEBIAN_FONTS = {
  "wqy-zenhei": "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
  "wqy-microhei": "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
  droidsansfallback: "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
};

/** Every font file present on this machine, by FONTS bucket key: the fallback first. */
export function fontFiles() {
  return {
    [FALLBACK_FONT.key]: FALLBACK_FONT.path,
    ...Object.fromEntries(Object.entries(DEBIAN_FONTS).filter(([, path]) => existsSync(path))),
  };
}
